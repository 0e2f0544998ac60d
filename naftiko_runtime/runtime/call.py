"""`naftiko call`: the invoker `naftiko run` would serve a file with, for one call, without a server.

The same plan decides where each namespace goes (`--upstream`, the local engine, the
baseUri), so a call and a served request of one file reach the same place.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from ..invoke.invoker import Invoker
from .invokers import Pool, build_invoker
from .listening import listening
from .options import RunOptions
from .plan import PlanEntry, plan_file
from .servers.engine import EngineServer


@contextlib.asynccontextmanager
async def planned_invoker(file: Path, options: RunOptions) -> AsyncIterator[tuple[PlanEntry, Invoker]]:
    """The plan entry of `file` and its invoker; the local engine runs meanwhile when the plan sends a namespace to it."""
    layers = Pool(options)
    plan = listening(options)
    engine: EngineServer | None = None
    try:
        entry = plan_file(file, replace(options, env=layers.env))  # binds from the environment the pool read
        layers.trace([entry])
        if entry.needs_engine and plan.engine_url is None:
            engine = EngineServer(plan.engine_port, options.engine_db)
            await engine.start()
        yield entry, build_invoker(entry, layers, engine.url if engine is not None else plan.engine_url)
    finally:
        if engine is not None:
            await engine.stop()
        await layers.close()
