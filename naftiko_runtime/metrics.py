"""Prometheus metrics of one runtime, as explicit layers rather than wrappers on live objects.

- `RuntimeMetrics.middleware(capability)`: an invoke middleware counting every exposed action
  (REST operation, MCP tool, skill-invoked tool): requests, durations, errors, in flight.
- `MetricsTransport(inner, metrics)`: the outermost upstream layer, counting every upstream
  call (status, duration, retries, errors, including calls refused by the concurrency limit).
- `prometheus(metrics)`: the one `/metrics` handler (control adapter and `--metrics-port`).

Each invoker gets its layers when it is built (`naftiko_runtime.stack`), so an invoker swapped
in by `--watch` is counted like the first one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from .errors import NaftikoError, UpstreamError
from .invoke.request import UpstreamRequest
from .invoke.transport import Transport, UpstreamResponse, Wrapper

if TYPE_CHECKING:
    from .binding.incoming import Incoming
    from .capability.model import Action, Capability
    from .invoke.middleware import Middleware, Next
    from .invoke.outcome import Outcome


def _code(exc: BaseException) -> str:
    return exc.error if isinstance(exc, NaftikoError) else type(exc).__name__


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

    def middleware(self, capability: Capability) -> Middleware:
        """The invoke middleware counting the actions of `capability` (marked active from now on)."""
        self.active.labels(capability.label or capability.file.name).set(1)

        children: dict[tuple[str, str], _ActionChildren] = {}

        async def counted(action: Action, incoming: Incoming, call_next: Next) -> Outcome:
            start = time.perf_counter()
            key = (action.adapter, action.name)
            mine = children.get(key)
            if mine is None:
                mine = children[key] = _ActionChildren(self, action.adapter, action.name)
            mine.in_flight.inc()
            try:
                outcome = await call_next(action, incoming)
            except Exception as exc:
                status = str(exc.status) if isinstance(exc, NaftikoError) else "500"
                self.errors.labels(action.adapter, action.name, _code(exc)).inc()
                mine.status(status).inc()
                raise
            finally:
                mine.in_flight.dec()
                mine.duration.observe(time.perf_counter() - start)
            mine.status(outcome.status).inc()
            return outcome

        return counted

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _ActionChildren:
    """The metric children of one exposed action, looked up once rather than per request."""

    __slots__ = ("adapter", "by_status", "duration", "in_flight", "metrics", "name")

    def __init__(self, metrics: RuntimeMetrics, adapter: str, name: str) -> None:
        self.metrics, self.adapter, self.name = metrics, adapter, name
        self.in_flight = metrics.in_flight.labels(adapter)
        self.duration = metrics.duration.labels(adapter, name)
        self.by_status: dict[int | str, Counter] = {}

    def status(self, status: int | str) -> Counter:
        child = self.by_status.get(status)
        if child is None:
            child = self.by_status[status] = self.metrics.requests.labels(self.adapter, self.name, str(status))
        return child


class _CallChildren:
    """The metric children of one consumed operation (upstream calls)."""

    __slots__ = ("by_status", "duration", "metrics", "namespace", "operation")

    def __init__(self, metrics: RuntimeMetrics, namespace: str, operation: str) -> None:
        self.metrics, self.namespace, self.operation = metrics, namespace, operation
        self.duration = metrics.client_duration.labels(namespace, operation)
        self.by_status: dict[int, Counter] = {}

    def status(self, status: int) -> Counter:
        child = self.by_status.get(status)
        if child is None:
            child = self.by_status[status] = self.metrics.client.labels(self.namespace, self.operation, str(status))
        return child


class MetricsTransport(Wrapper):
    """Upstream layer counting every call by consumed operation: status, duration, retries, errors."""

    def __init__(self, inner: Transport, metrics: RuntimeMetrics) -> None:
        super().__init__(inner)
        self.metrics = metrics
        self.children: dict[tuple[str, str], _CallChildren] = {}

    async def send(self, req: UpstreamRequest) -> UpstreamResponse:
        m, ns, op = self.metrics, req.namespace, req.operation
        mine = self.children.get((ns, op))
        if mine is None:
            mine = self.children[(ns, op)] = _CallChildren(m, ns, op)
        start = time.perf_counter()
        try:
            response = await self.inner.send(req)
        except Exception as exc:
            m.client.labels(ns, op, str(exc.status) if isinstance(exc, NaftikoError) else "error").inc()
            m.client_errors.labels(ns, op, _code(exc)).inc()
            retries = exc.attempts - 1 if isinstance(exc, UpstreamError) else 0
            if retries > 0:
                m.client_retries.labels(ns, op).inc(retries)
            raise
        finally:
            mine.duration.observe(time.perf_counter() - start)
        mine.status(response.status).inc()
        if response.status >= 500:
            m.client_errors.labels(ns, op, f"http_{response.status}").inc()
        if response.attempts > 1:
            m.client_retries.labels(ns, op).inc(response.attempts - 1)
        return response


def prometheus(metrics: RuntimeMetrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The `/metrics` handler: Prometheus text exposition of `metrics`."""

    async def handler(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return handler
