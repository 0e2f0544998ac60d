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

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import NaftikoError
from .invoke.request import UpstreamRequest
from .invoke.transport import UpstreamResponse, Wrapper
from .logs import LOGGER, SECRETS
from .version import __version__

if TYPE_CHECKING:
    from .binding.incoming import Incoming
    from .capability.model import Action
    from .invoke.middleware import Next
    from .invoke.outcome import Outcome

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
ENABLED = False
_tracer: Any = None
_provider: Any = None
_local: Any = None  # the `/traces` buffer of the running runtime


def requested(env: Mapping[str, str]) -> bool:
    return any(env.get(name) for name in ENDPOINT_VARIABLES) and env.get("OTEL_SDK_DISABLED", "").lower() != "true"


def setup(env: Mapping[str, str] | None = None, local_buffer: int | None = None) -> bool:
    """Install the tracer provider: the OTLP exporter when `env` names an endpoint, the `/traces`
    buffer when `local_buffer` is set; False (with a warning) if the packages are missing.

    `env` (default: the process environment) may carry the capability's `observability` settings
    under the run's own `OTEL_*` variables (see observability): endpoint, sampler, propagators.
    Each call (each runtime of the process) gets a provider of its own; the wrappers read the
    current one, and only the first becomes OpenTelemetry's global provider."""
    global ENABLED, _tracer, _provider, _local
    env = os.environ if env is None else env
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from .traces import TraceBuffer, span_capture
    except ImportError as exc:
        LOGGER.warning(
            "tracing disabled: it is asked for (an OTLP endpoint or the control adapter's /traces) but the "
            "OpenTelemetry SDK is not installed (pip install 'naftiko-runtime[otel]')",
            extra={"missing": exc.name},
        )
        return False
    _local = TraceBuffer(local_buffer) if local_buffer else None
    attributes = {"service.version": __version__, "service.name": env.get("OTEL_SERVICE_NAME") or "naftiko-runtime"}
    _provider = TracerProvider(resource=Resource.create(attributes), sampler=_sampler(env))
    endpoint = _traces_endpoint(env) if requested(env) else None
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )

        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    _provider.add_span_processor(span_capture(lambda: _local))
    _propagators(env)
    if not ENABLED:
        trace.set_tracer_provider(_provider)
    _tracer = _provider.get_tracer("naftiko_runtime", __version__)
    ENABLED = True
    LOGGER.info("tracing enabled", extra={"endpoint": endpoint, "local_buffer": local_buffer})
    return True


def local_buffer() -> Any:
    """The `/traces` buffer (a `traces.TraceBuffer`), or None when tracing is off or keeps none."""
    return _local if ENABLED else None


def _traces_endpoint(env: Mapping[str, str]) -> str | None:
    """The traces URL as the OTLP/HTTP exporter derives it: the signal's own variable, else the base plus `/v1/traces`."""
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return base.rstrip("/") + "/v1/traces" if base else None


def _sampler(env: Mapping[str, str]) -> Any:
    """`OTEL_TRACES_SAMPLER`/`_ARG` read from `env` (the SDK itself only reads the process environment)."""
    from opentelemetry.sdk.trace import sampling

    name = (env.get("OTEL_TRACES_SAMPLER") or "").strip().lower()
    try:
        ratio = float(env.get("OTEL_TRACES_SAMPLER_ARG") or 1.0)
    except ValueError:
        ratio = 1.0
    ratio = min(max(ratio, 0.0), 1.0)
    samplers = {
        "always_on": sampling.ALWAYS_ON, "always_off": sampling.ALWAYS_OFF,
        "parentbased_always_on": sampling.ParentBased(sampling.ALWAYS_ON),
        "parentbased_always_off": sampling.ParentBased(sampling.ALWAYS_OFF),
        "traceidratio": sampling.TraceIdRatioBased(ratio),
        "parentbased_traceidratio": sampling.ParentBased(sampling.TraceIdRatioBased(ratio)),
    }
    return samplers.get(name)  # None: the SDK's default (parent-based, always on)


def _propagators(env: Mapping[str, str]) -> None:
    """`OTEL_PROPAGATORS` from `env` when it differs from what the SDK read from the process environment."""
    names = [n.strip() for n in (env.get("OTEL_PROPAGATORS") or "").split(",") if n.strip()]
    if not names or env.get("OTEL_PROPAGATORS") == os.environ.get("OTEL_PROPAGATORS"):
        return
    from importlib.metadata import entry_points

    from opentelemetry import propagate
    from opentelemetry.propagators.composite import CompositePropagator

    found = []
    for name in names:
        points = list(entry_points(group="opentelemetry_propagator", name=name))
        if not points:
            LOGGER.warning("trace propagator not installed; it is left out", extra={"propagator": name})
            continue
        found.append(points[0].load()())
    if found:
        propagate.set_global_textmap(CompositePropagator(found))


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
