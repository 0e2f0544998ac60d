"""`naftiko run --workers N`: N processes serving the same ports, the local engine in one of its own.

The supervisor (this process) builds the plan once, to know whether the bundled engine is
needed; if so it serves the engine itself and nothing else, so every worker sends to the
same engine (one SQLite writer). It then starts N copies of the same `naftiko run` command
with `--workers 1`, `--reuse-port` and `--engine-url`: each binds every port with
`SO_REUSEPORT` and the kernel spreads the connections between them. SIGINT/SIGTERM is passed
on to every worker; when one worker exits on its own, the others are stopped and the
supervisor exits with its code. Ports must be fixed (a port 0 would give each worker its own).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from ..logs import LOGGER
from .options import RunOptions, StartupError
from .plan import Plan
from .servers.engine import EngineServer


def worker_command(argv: list[str], engine_url: str | None) -> list[str]:
    """The command of one worker: the same `naftiko run` arguments, one process, the ports shared."""
    extra = ["--workers", "1", "--reuse-port"]
    if engine_url:
        extra += ["--engine-url", engine_url]
    return [sys.executable, "-m", "naftiko_runtime", *argv, *extra]


async def supervise(options: RunOptions, argv: list[str]) -> int:
    """Run `options.workers` workers until a signal or until one exits; returns the exit code."""
    plan = Plan.build(options)
    unfixed = [f"{kind} {host or '*'}:{port}" for kind, groups in (("rest", plan.rest_groups()), ("mcp", plan.mcp_groups()))
               for host, port in groups if port <= 0]
    unfixed += [f"{a.type} {a.namespace or ''}".strip() for kind in ("skill", "control")
                for a, _ in plan.other_adapters(kind) if plan.other_port(a) == 0]
    if options.metrics_port == 0:
        unfixed.append("metrics")
    if unfixed:
        raise StartupError(f"--workers {options.workers}: every port must be fixed, "
                           f"each worker would get a port of its own for: {', '.join(unfixed)}")
    engine: EngineServer | None = None
    if plan.needs_engine and not options.engine_url:
        engine = EngineServer(options.engine_port, options.engine_db)
        await engine.start()
    command = worker_command(argv, engine.url if engine is not None else options.engine_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    workers: list[Any] = []
    try:
        for _ in range(options.workers):
            workers.append(await asyncio.create_subprocess_exec(*command))
        LOGGER.info("workers", extra={"count": len(workers), "pids": [w.pid for w in workers]})
        waits = {asyncio.ensure_future(w.wait()) for w in workers}
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({*waits, stopping}, return_when=asyncio.FIRST_COMPLETED)
        code = 0
        if stopping not in done:
            code = next(iter(done)).result() or 1
            LOGGER.error("a worker exited; stopping the others", extra={"code": code})
        stopping.cancel()
        return code
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
        grace = options.shutdown_grace + 5
        for worker in workers:
            try:
                await asyncio.wait_for(worker.wait(), grace)
            except TimeoutError:
                worker.kill()
                await worker.wait()
        if engine is not None:
            await engine.stop()


def check_workers(options: RunOptions) -> None:
    if options.workers > 1 and (options.stdio or options.watch):
        raise StartupError("--workers: not with --stdio or --watch (one process serves those)")
