"""The control adapter: the management plane of a running capability.

Routes follow the adapter's `management` and `observability` toggles, with the alpha2
defaults (health on, info off, observability and local metrics on):

- `GET /health/live` -> `{"status": "UP"}`
- `GET /health/ready` -> `{status: UP|DEGRADED, adapters: [{type, namespace, port, state}], namespaces: [...]}`,
  503 when degraded (an adapter not started, or a live namespace whose binds do not resolve)
- `GET /status` (`management.info: true`) -> capability label and spec version, engine version,
  uptime, adapters
- `GET /metrics` -> Prometheus text exposition of `RuntimeMetrics`

Requests are counted where every adapter meets: `RuntimeMetrics.observe(invoker)` wraps the
invoker's `invoke` and `send`, so REST operations, MCP tools and skill-invoked tools all count.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from .. import __version__
from ..capability.control import ControlAdapter
from ..capability.model import Capability
from .auth import Credentials
from .health import Readiness, add_health_routes
from .scripting_route import add_scripting_routes
from .traces_route import add_trace_routes

if TYPE_CHECKING:
    from ..invoke.governance import ScriptGovernance
    from ..invoke.invoker import Invoker
    from ..traces import TraceBuffer


@dataclass
class AdapterState:
    type: str
    namespace: str | None
    port: int | None
    state: str  # started | stopped

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.namespace:
            out["namespace"] = self.namespace
        if self.port:
            out["port"] = self.port
        out["state"] = self.state
        return out


AdapterStates = Callable[[], Iterable[AdapterState]]


class RuntimeMetrics:
    """Prometheus metrics of one runtime, in a registry of its own (never the global one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.started = time.time()
        self.requests = Counter(
            "naftiko_request", "Requests handled, by exposed action and status.",
            ["adapter", "operation", "status"], registry=self.registry,
        )
        self.duration = Histogram(
            "naftiko_request_duration_seconds", "Duration of request handling in seconds.",
            ["adapter", "operation"], registry=self.registry,
        )
        self.errors = Counter(
            "naftiko_request_errors", "Requests that failed before an upstream answer, by error type.",
            ["adapter", "operation", "error_type"], registry=self.registry,
        )
        self.client = Counter(
            "naftiko_http_client", "Upstream HTTP calls, by consumed operation and status code.",
            ["namespace", "operation", "status_code"], registry=self.registry,
        )
        self.client_duration = Histogram(
            "naftiko_http_client_duration_seconds", "Duration of upstream HTTP calls in seconds.",
            ["namespace", "operation"], registry=self.registry,
        )
        self.client_retries = Counter(
            "naftiko_http_client_retries", "Upstream calls sent again (connection errors, 502/503/504 on idempotent methods).",
            ["namespace", "operation"], registry=self.registry,
        )
        self.client_errors = Counter(
            "naftiko_http_client_errors", "Upstream calls that failed: unreachable, timeout, too large, busy, or a 5xx answer.",
            ["namespace", "operation", "error_type"], registry=self.registry,
        )
        self.in_flight = Gauge(
            "naftiko_requests_in_flight", "Requests being handled now, by exposing adapter.", ["adapter"], registry=self.registry,
        )
        self.active = Gauge("naftiko_capability_active", "Capabilities being served.", ["capability"], registry=self.registry)
        uptime = Gauge("naftiko_uptime_seconds", "Seconds since the runtime started.", registry=self.registry)
        uptime.set_function(lambda: time.time() - self.started)
        self._observed: weakref.WeakSet[Invoker] = weakref.WeakSet()  # not ids: a freed invoker's id is reused

    def observe(self, invoker: "Invoker") -> None:
        """Count every action `invoker` runs and every upstream call it sends (once per invoker)."""
        if invoker in self._observed:
            return
        self._observed.add(invoker)
        label = invoker.capability.label or invoker.capability.file.name
        self.active.labels(label).set(1)
        invoke, send = invoker.invoke, invoker.send

        async def counted_invoke(action: Any, incoming: Any) -> Any:
            start = time.perf_counter()
            in_flight = self.in_flight.labels(action.adapter)
            in_flight.inc()
            try:
                outcome = await invoke(action, incoming)
            except Exception as exc:
                status = str(getattr(exc, "status", 500))
                self.errors.labels(action.adapter, action.name, getattr(exc, "error", type(exc).__name__)).inc()
                self.requests.labels(action.adapter, action.name, status).inc()
                raise
            finally:
                in_flight.dec()
                self.duration.labels(action.adapter, action.name).observe(time.perf_counter() - start)
            self.requests.labels(action.adapter, action.name, str(outcome.status)).inc()
            return outcome

        async def counted_send(call: Any, incoming: Any, extra: Any = None) -> Any:
            op = call.operation
            start = time.perf_counter()
            try:
                result = await send(call, incoming, extra)
            except Exception as exc:
                self.client.labels(op.namespace, op.name, str(getattr(exc, "status", "error"))).inc()
                self.client_errors.labels(op.namespace, op.name, getattr(exc, "error", type(exc).__name__)).inc()
                retries = getattr(exc, "attempts", 1) - 1
                if retries > 0:
                    self.client_retries.labels(op.namespace, op.name).inc(retries)
                raise
            finally:
                self.client_duration.labels(op.namespace, op.name).observe(time.perf_counter() - start)
            status = result.response.status
            self.client.labels(op.namespace, op.name, str(status)).inc()
            if status >= 500:
                self.client_errors.labels(op.namespace, op.name, f"http_{status}").inc()
            if result.response.attempts > 1:
                self.client_retries.labels(op.namespace, op.name).inc(result.response.attempts - 1)
            return result

        invoker.invoke = counted_invoke  # type: ignore[method-assign]
        invoker.send = counted_send  # type: ignore[method-assign]

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def metrics_enabled(adapter: ControlAdapter) -> bool:
    return adapter.observability.metrics


def build_control_app(
    adapter: ControlAdapter,
    capability: Capability,
    *,
    readiness: Readiness,
    adapters: AdapterStates,
    metrics: RuntimeMetrics,
    bind_context: dict[str, Any] | None = None,
    scripting: ScriptGovernance | None = None,
    traces: TraceBuffer | None = None,
) -> web.Application:
    """`scripting`: the governance `/scripting` shows and changes; `traces`: the buffer behind `/traces`
    (None while tracing is off: `/traces` answers 503)."""
    management = adapter.management
    credentials = Credentials.from_spec(adapter.auth, bind_context or {})

    @web.middleware
    async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        # Liveness stays open so orchestrators can probe it; everything else needs the declared credentials.
        if credentials is not None and request.path != "/health/live" and not credentials.check(request.headers, request.query):
            response = web.json_response({"error": "unauthorized", "message": "missing or invalid credentials"}, status=401)
            response.headers["WWW-Authenticate"] = credentials.challenge
            return response
        return await handler(request)

    async def status(_: web.Request) -> web.Response:
        uptime = max(0.0, time.time() - metrics.started)
        body = {
            "capability": {"label": capability.label, "specVersion": capability.spec_version},
            "engine": {"name": "naftiko-runtime", "version": __version__},
            "uptime": f"PT{uptime:.3f}S",
            "uptimeSeconds": round(uptime, 3),
            "adapters": [a.as_json() for a in adapters()],
        }
        return web.json_response(body)

    async def prometheus(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application(middlewares=[guard])
    if management.health:
        add_health_routes(app, readiness, adapters=adapters)
    if management.info:
        app.router.add_get("/status", status)
    if metrics_enabled(adapter):
        app.router.add_get("/metrics", prometheus)
    if adapter.observability.traces:
        add_trace_routes(app, traces)
    if management.scripting.declared and scripting is not None:
        add_scripting_routes(app, scripting)
    return app


def build_metrics_app(metrics: RuntimeMetrics, readiness: Readiness) -> web.Application:
    """`--metrics-port`: `/metrics` plus the health probes, for capabilities without a control adapter."""

    async def prometheus(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/metrics", prometheus)
    add_health_routes(app, readiness)
    return app
