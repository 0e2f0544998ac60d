"""The control adapter: the management plane of a running capability.

Routes follow the adapter's `management` and `observability` toggles, with the alpha2
defaults (health on, info off, observability and local metrics on):

- `GET /health/live` -> `{"status": "UP"}`
- `GET /health/ready` -> `{status: UP|DEGRADED, adapters: [{type, namespace, port, state}], namespaces: [...]}`,
  503 when degraded (an adapter not started, or a live namespace whose binds do not resolve)
- `GET /status` (`management.info: true`) -> capability label and spec version, engine version,
  uptime, adapters
- `GET /metrics` -> Prometheus text exposition of `RuntimeMetrics`

Requests are counted where every adapter meets, by the invoke middleware and upstream layer
of `naftiko_runtime.metrics`, so REST operations, MCP tools and skill-invoked tools all count.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..capability.control import ControlAdapter
from ..capability.model import Capability
from ..metrics import RuntimeMetrics, prometheus
from ..version import __version__
from .auth import Credentials
from .errors import unauthorized
from .health import Readiness, add_health_routes
from .scripting_route import add_scripting_routes
from .traces_route import add_trace_routes

if TYPE_CHECKING:
    from ..invoke.governance import ScriptGovernance
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
            return unauthorized(credentials.challenge)
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

    app = web.Application(middlewares=[guard])
    if management.health:
        add_health_routes(app, readiness, adapters=adapters)
    if management.info:
        app.router.add_get("/status", status)
    if metrics_enabled(adapter):
        app.router.add_get("/metrics", prometheus(metrics))
    if adapter.observability.traces:
        add_trace_routes(app, traces)
    if management.scripting.declared and scripting is not None:
        add_scripting_routes(app, scripting)
    return app


def build_metrics_app(metrics: RuntimeMetrics, readiness: Readiness) -> web.Application:
    """`--metrics-port`: `/metrics` plus the health probes, for capabilities without a control adapter."""

    app = web.Application()
    app.router.add_get("/metrics", prometheus(metrics))
    add_health_routes(app, readiness)
    return app
