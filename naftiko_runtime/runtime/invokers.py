"""The one place where a served capability's upstream stack and invokers are built.

Every adapter server gets its invoker from `build_invoker`, which hands the composition of
the cross-cutting layers (concurrency limit, metrics, tracing) to `naftiko_runtime.stack`;
nothing is wrapped after the fact.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .. import stack, tracing
from ..capability.control import ControlAdapter
from ..invoke.invoker import Invoker
from ..invoke.transport import Transport, UpstreamSettings
from ..invoke.wire import ClientUnavailable
from ..logs import LOGGER
from .options import RunOptions, StartupError
from .plan import PlanEntry

if TYPE_CHECKING:
    from ..metrics import RuntimeMetrics


class Pool:
    """The process-wide upstream stack (sessions and the concurrency limit are per process), and the
    environment of the run, read once: binds, baseUri placeholders, `in: environment` and tracing use it."""

    def __init__(self, options: RunOptions) -> None:
        self.env: dict[str, str] = dict(os.environ) if options.env is None else dict(options.env)
        self.settings = UpstreamSettings(connect_timeout=options.connect_timeout, total_timeout=options.total_timeout,
                                         client=options.http_client)
        self.max_concurrency = options.max_concurrency
        self.traced = False
        try:
            self.transport: Transport = stack.upstream_stack(self.settings, max_concurrency=self.max_concurrency)
        except ClientUnavailable as exc:
            raise StartupError(str(exc)) from None

    def trace(self, entries: list[PlanEntry]) -> None:
        """Tracing from the run's `OTEL_*` variables over the control adapters' `observability` blocks
        (call once, before any invoker is built: the upstream stack gains its trace layer here)."""
        from ..observability import plan_tracing

        controls = [(str(a.where or e.file), a.observability, e.binds.context())
                    for e in entries for a in e.adapters(ControlAdapter)]
        wanted = plan_tracing(controls)
        for warning in wanted.warnings:
            LOGGER.warning(warning)
        env = wanted.environment(self.env)
        if wanted.disabled:
            LOGGER.info("tracing off: the capability's observability.enabled is false")
        elif (tracing.requested(env) or wanted.needed) and tracing.setup(env, wanted.local_buffer):
            self.traced = True
            self.transport = stack.upstream_stack(self.settings, max_concurrency=self.max_concurrency, traced=True)

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
