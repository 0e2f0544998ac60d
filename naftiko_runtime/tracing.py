"""OpenTelemetry tracing, switched on by `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`).

When it is unset nothing here is installed: no provider, no layers, no imports of the
SDK, so serving costs what it did. When it is set (and the `otel` extra is installed),
`naftiko_runtime.stack` adds two layers:

- `server_span`, an invoke middleware: every exposed action (REST operation, MCP tool or
  resource) runs in a SERVER span whose parent is the caller's W3C `traceparent` (REST
  headers, or the MCP HTTP request's);
- `TraceTransport`, an upstream layer: every upstream call runs in a CLIENT span, and its
  `traceparent`/`tracestate` are injected into the upstream request;
- spans go to the OTLP/HTTP exporter, which reads the standard `OTEL_*` variables
  (endpoint, headers, timeout; `OTEL_SERVICE_NAME`, default `naftiko-runtime`).

URLs in span attributes carry no query string and are redacted like logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import NaftikoError
from .invoke.request import UpstreamRequest
from .invoke.transport import UpstreamResponse, Wrapper
from .logs import LOGGER, SECRETS

if TYPE_CHECKING:
    from .binding.incoming import Incoming
    from .capability.model import Action
    from .invoke.middleware import Next
    from .invoke.outcome import Outcome

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
ENABLED = False
_tracer: Any = None
_provider: Any = None


def requested(env: Mapping[str, str]) -> bool:
    return any(env.get(name) for name in ENDPOINT_VARIABLES) and env.get("OTEL_SDK_DISABLED", "").lower() != "true"


def setup(env: Mapping[str, str]) -> bool:
    """Install the tracer provider and OTLP exporter; False (with a warning) if the packages are missing.

    `env` is the mapping `requested(env)` checked (`RunOptions.env`): endpoint and service name come
    from it; the exporter's other settings (headers, timeout) are the SDK's own `OTEL_*` reading."""
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
    attributes = {"service.version": __version__, "service.name": env.get("OTEL_SERVICE_NAME") or "naftiko-runtime"}
    endpoint = _traces_endpoint(env)
    _provider = TracerProvider(resource=Resource.create(attributes))
    _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(_provider)
    _tracer = _provider.get_tracer("naftiko_runtime", __version__)
    ENABLED = True
    LOGGER.info("tracing enabled", extra={"endpoint": endpoint})
    return True


def _traces_endpoint(env: Mapping[str, str]) -> str:
    """The traces URL as the OTLP/HTTP exporter derives it: the signal's own variable, else the base plus `/v1/traces`."""
    specific = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if specific:
        return specific
    return env["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"


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


async def server_span(action: Action, incoming: Incoming, call_next: Next) -> Outcome:
    """Invoke middleware: a SERVER span around the action, child of the caller's `traceparent`."""
    from opentelemetry.trace import SpanKind, Status, StatusCode

    attributes = {"naftiko.adapter": action.adapter, "naftiko.operation": action.name, "naftiko.origin": incoming.origin}
    if incoming.request_id:
        attributes["naftiko.request_id"] = incoming.request_id
    with _tracer.start_as_current_span(
        f"{incoming.origin} {action.name}", kind=SpanKind.SERVER, context=_parent(incoming.headers),
        attributes=attributes, record_exception=False,
    ) as span:
        try:
            outcome = await call_next(action, incoming)
        except NaftikoError as exc:
            span.set_attribute("http.response.status_code", exc.status)
            span.set_status(Status(StatusCode.ERROR, exc.error))
            raise
        except Exception as exc:
            span.set_attribute("http.response.status_code", 500)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        span.set_attribute("http.response.status_code", outcome.status)
        if outcome.status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        return outcome


class TraceTransport(Wrapper):
    """Upstream layer: a CLIENT span around every call, with W3C context injected into its headers."""

    async def send(self, req: UpstreamRequest) -> UpstreamResponse:
        from opentelemetry import propagate
        from opentelemetry.trace import SpanKind, Status, StatusCode

        url = SECRETS.redact(req.url.split("?", 1)[0])
        attributes = {"http.request.method": req.method, "url.full": url, "naftiko.upstream": req.upstream,
                      "naftiko.namespace": req.namespace}
        with _tracer.start_as_current_span(f"{req.method} {req.upstream}", kind=SpanKind.CLIENT, attributes=attributes,
                                           record_exception=False) as span:
            propagate.inject(req.headers)
            try:
                response = await self.inner.send(req)
            except Exception as exc:
                span.set_attribute("error.type", exc.error if isinstance(exc, NaftikoError) else type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, SECRETS.redact(str(exc))))
                raise
            span.set_attribute("http.response.status_code", response.status)
            if response.attempts > 1:
                span.set_attribute("http.request.resend_count", response.attempts - 1)
            if response.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response


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
