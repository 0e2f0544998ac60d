"""The one place where a served capability's upstream pool and invokers are built and wrapped.

Every adapter server gets its invoker from `build_invoker`, so the cross-cutting layers
around invocation (concurrency limits, metrics, tracing) are composed here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import tracing
from ..capability.control import ControlAdapter
from ..invoke.client import UpstreamPool, UpstreamSettings
from ..invoke.invoker import Invoker
from ..limits import limit_concurrency
from ..logs import LOGGER
from .options import RunOptions
from .plan import Plan, PlanEntry

if TYPE_CHECKING:
    from ..exposes.control import RuntimeMetrics


class Pool:
    """The process-wide upstream pool with its layers, and the in-flight counts of its limit."""

    def __init__(self, options: RunOptions) -> None:
        self.pool = UpstreamPool(UpstreamSettings(connect_timeout=options.connect_timeout, total_timeout=options.total_timeout))
        self.in_flight = limit_concurrency(self.pool, options.max_concurrency)
        self.env = options.env

    def trace(self, plan: Plan) -> None:
        """OpenTelemetry from the run's `OTEL_*` variables over the control adapters' `observability` blocks."""
        from ..observability import plan_tracing

        controls = [(str(a.where or e.file), a.observability, e.binds.context())
                    for e in plan.entries for a in e.adapters(ControlAdapter)]
        wanted = plan_tracing(controls)
        for warning in wanted.warnings:
            LOGGER.warning(warning)
        env = wanted.environment(self.env)
        if wanted.disabled:
            LOGGER.info("tracing off: the capability's observability.enabled is false")
        elif (tracing.requested(env) or wanted.needed) and tracing.setup(env, wanted.local_buffer):
            tracing.instrument_pool(self.pool)

    async def close(self) -> None:
        await self.pool.close()
        tracing.shutdown()


def build_invoker(entry: PlanEntry, pool: UpstreamPool, engine_url: str | None = None,
                  metrics: RuntimeMetrics | None = None) -> Invoker:
    """The invoker serving `entry`: its namespaces sent where the plan decided, counted and traced when asked."""
    invoker = Invoker(entry.capability, entry.binds, pool, entry.base_overrides(engine_url))
    if metrics is not None:
        metrics.observe(invoker)
    tracing.instrument_invoker(invoker)
    return invoker
