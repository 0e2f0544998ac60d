"""OpenTelemetry tracing, switched on by `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`).

When it is unset nothing here is installed: no provider, no wrappers, no imports of the
SDK, so serving costs what it did. When it is set (and the `otel` extra is installed):

- every exposed action (REST operation, MCP tool or resource) runs in a SERVER span whose
  parent is the caller's W3C `traceparent` (REST headers, or the MCP HTTP request's);
- every upstream call runs in a CLIENT span, and its `traceparent`/`tracestate` are
  injected into the upstream request;
- spans go to the OTLP/HTTP exporter, which reads the standard `OTEL_*` variables
  (endpoint, headers, timeout; `OTEL_SERVICE_NAME`, default `naftiko-runtime`).

URLs in span attributes carry no query string and are redacted like logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import __version__
from .logs import LOGGER, SECRETS

if TYPE_CHECKING:
    from .invoke.client import UpstreamPool
    from .invoke.invoker import Invoker

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
ENABLED = False
_tracer: Any = None
_provider: Any = None


def requested(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return any(env.get(name) for name in ENDPOINT_VARIABLES) and env.get("OTEL_SDK_DISABLED", "").lower() != "true"


def setup() -> bool:
    """Install the tracer provider and OTLP exporter; False (with a warning) if the packages are missing."""
    global ENABLED, _tracer, _provider
    if ENABLED:
        return True
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        LOGGER.warning(
            "tracing disabled: OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is not installed "
            "(pip install 'naftiko-runtime[otel]')",
            extra={"missing": exc.name},
        )
        return False
    attributes = {"service.version": __version__}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = "naftiko-runtime"
    _provider = TracerProvider(resource=Resource.create(attributes))
    _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(_provider)
    _tracer = _provider.get_tracer("naftiko_runtime", __version__)
    ENABLED = True
    endpoint = next(os.environ[n] for n in ENDPOINT_VARIABLES if os.environ.get(n))
    LOGGER.info("tracing enabled", extra={"endpoint": endpoint})
    return True


def shutdown() -> None:
    """Flush pending spans (bounded by the exporter's own timeout)."""
    if _provider is not None:
        _provider.shutdown()


def _parent(headers: Mapping[str, str] | None) -> Any:
    """The caller's context if it sent `traceparent`, else the current one."""
    if headers and headers.get("traceparent"):
        from opentelemetry import propagate

        return propagate.extract(headers)
    return None


def instrument_invoker(invoker: "Invoker") -> None:
    """A SERVER span around every action `invoker` runs (once per invoker)."""
    if not ENABLED or getattr(invoker, "_naftiko_traced", False):
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode

    invoke = invoker.invoke

    async def traced_invoke(action: Any, incoming: Any) -> Any:
        attributes = {"naftiko.adapter": action.adapter, "naftiko.operation": action.name, "naftiko.origin": incoming.origin}
        if incoming.request_id:
            attributes["naftiko.request_id"] = incoming.request_id
        with _tracer.start_as_current_span(
            f"{incoming.origin} {action.name}", kind=SpanKind.SERVER, context=_parent(incoming.headers),
            attributes=attributes, record_exception=False,
        ) as span:
            try:
                outcome = await invoke(action, incoming)
            except Exception as exc:
                span.set_attribute("http.response.status_code", getattr(exc, "status", 500))
                span.set_status(Status(StatusCode.ERROR, getattr(exc, "error", type(exc).__name__)))
                raise
            span.set_attribute("http.response.status_code", outcome.status)
            if outcome.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return outcome

    invoker.invoke = traced_invoke  # type: ignore[method-assign]
    invoker._naftiko_traced = True  # type: ignore[attr-defined]


def instrument_pool(pool: "UpstreamPool") -> None:
    """A CLIENT span around every upstream call, with W3C context injected into its headers."""
    if not ENABLED:
        return
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind, Status, StatusCode

    send = pool.send

    async def traced_send(namespace: str, upstream: str, req: Any, middlewares: list[Any] | None = None) -> Any:
        url = SECRETS.redact(req.url.split("?", 1)[0])
        attributes = {"http.request.method": req.method, "url.full": url, "naftiko.upstream": upstream,
                      "naftiko.namespace": namespace.split("@", 1)[0]}
        with _tracer.start_as_current_span(f"{req.method} {upstream}", kind=SpanKind.CLIENT, attributes=attributes,
                                           record_exception=False) as span:
            propagate.inject(req.headers)
            try:
                response = await send(namespace, upstream, req, middlewares)
            except Exception as exc:
                span.set_attribute("error.type", getattr(exc, "error", type(exc).__name__))
                span.set_status(Status(StatusCode.ERROR, SECRETS.redact(str(exc))))
                raise
            span.set_attribute("http.response.status_code", response.status)
            if response.attempts > 1:
                span.set_attribute("http.request.resend_count", response.attempts - 1)
            if response.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response

    pool.send = traced_send  # type: ignore[method-assign]


class AsgiContext:
    """For the MCP endpoint: make the HTTP request's `traceparent` the current context of the call."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = headers
        self.token: Any = None

    def __enter__(self) -> None:
        if ENABLED and self.headers.get("traceparent"):
            from opentelemetry import context

            self.token = context.attach(_parent(self.headers))

    def __exit__(self, *exc: Any) -> None:
        if self.token is not None:
            from opentelemetry import context

            context.detach(self.token)
