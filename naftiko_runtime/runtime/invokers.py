"""The one place where a served capability's upstream stack and invokers are built.

Every adapter server gets its invoker from `build_invoker`, which hands the composition of
the cross-cutting layers (concurrency limit, metrics, tracing) to `naftiko_runtime.stack`;
nothing is wrapped after the fact.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .. import stack, tracing
from ..invoke.invoker import Invoker
from ..invoke.transport import Transport, UpstreamSettings
from .options import RunOptions
from .plan import PlanEntry

if TYPE_CHECKING:
    from ..metrics import RuntimeMetrics


class Pool:
    """The process-wide upstream stack (sessions and the concurrency limit are per process), and the
    environment of the run, read once: binds, baseUri placeholders, `in: environment` and tracing use it."""

    def __init__(self, options: RunOptions) -> None:
        self.env: dict[str, str] = dict(os.environ) if options.env is None else dict(options.env)
        self.traced = tracing.requested(self.env) and tracing.setup(self.env)
        self.transport: Transport = stack.upstream_stack(
            UpstreamSettings(connect_timeout=options.connect_timeout, total_timeout=options.total_timeout),
            max_concurrency=options.max_concurrency, traced=self.traced,
        )

    async def close(self) -> None:
        await self.transport.close()
        tracing.shutdown()


def build_invoker(entry: PlanEntry, pool: Pool, engine_url: str | None = None,
                  metrics: RuntimeMetrics | None = None) -> Invoker:
    """The invoker serving `entry`: its namespaces sent where the plan decided, counted and traced when asked."""
    return stack.build_invoker(
        entry.capability, entry.binds, pool.transport, base_overrides=entry.base_overrides(engine_url),
        metrics=metrics, traced=pool.traced, env=pool.env,
    )
