"""The one place a served capability's layers are composed.

Upstream, in the manner of httpx, each layer wraps the next:

    Metrics( Trace( Limit( Retry( Aiohttp | Pyreqwest ))))

- metrics outermost (per invoker, over the shared rest), so calls refused by the limit and
  every retry are counted;
- a CLIENT span per call (retries inside it, as `http.request.resend_count`);
- the concurrency limit before retries, so a retried call holds one slot.

Around every exposed action, the invoke middlewares (first outermost):

    metrics -> SERVER span -> the invoker's own work

The REST port's own layers around the dispatch (access log, CORS, JSON errors,
`Expect: 100-continue`, body deadline) are composed the same way, in
`exposes/rest/app.build_handler`.

Layers that are off are not in the stack at all, so they cost nothing. Everything is
decided here from explicit arguments; nothing is wrapped after the fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from . import tracing
from .binding.binds import BindValues
from .capability.model import Capability
from .invoke.invoker import Invoker
from .invoke.middleware import Middleware
from .invoke.transport import (
    LimitTransport,
    RetryTransport,
    Transport,
    UpstreamSettings,
)
from .invoke.wire import open_wire

if TYPE_CHECKING:
    from .metrics import RuntimeMetrics


def upstream_stack(
    settings: UpstreamSettings,
    *,
    max_concurrency: int = 0,
    traced: bool = False,
    wire: Transport | None = None,
) -> Transport:
    """The process-wide upstream transport, shared by every invoker so that sessions and the
    concurrency limit are per process (`wire`: the innermost layer, by default pooled sessions of
    `settings.client`, aiohttp or pyreqwest)."""
    transport: Transport = wire if wire is not None else open_wire(settings)
    transport = RetryTransport(transport, settings.retries, settings.backoff)
    if max_concurrency > 0:
        transport = LimitTransport(transport, max_concurrency)
    if traced:
        transport = tracing.TraceTransport(transport)
    return transport


def invoke_middlewares(capability: Capability, *, metrics: RuntimeMetrics | None = None, traced: bool = False) -> list[Middleware]:
    middlewares: list[Middleware] = []
    if metrics is not None:
        middlewares.append(metrics.middleware(capability))
    if traced:
        middlewares.append(tracing.server_span)
    return middlewares


def build_invoker(
    capability: Capability,
    binds: BindValues,
    transport: Transport,
    *,
    base_overrides: dict[str, str] | None = None,
    metrics: RuntimeMetrics | None = None,
    traced: bool = False,
    env: Mapping[str, str],
) -> Invoker:
    """A served capability's invoker: its middlewares around its work, sending through `transport`
    (built by `upstream_stack`, shared by every capability of the process), counted when `metrics`."""
    if metrics is not None:
        from .metrics import MetricsTransport

        transport = MetricsTransport(transport, metrics)
    return Invoker(
        capability, binds, transport, base_overrides,
        middlewares=invoke_middlewares(capability, metrics=metrics, traced=traced), env=env,
    )
