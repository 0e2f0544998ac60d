"""The upstream client alone: CPU per call of each `naftiko_runtime` wire transport, in one process.

    python -m benchmarks.clients [--calls 4000] [--concurrency 32] [--rounds 3]

Starts the benchmark's upstream (nginx if installed, else the aiohttp stub) on core 0, pins
itself to core 1 and sends GET /small (1 KB) through `AiohttpTransport` and `PyreqwestTransport`
alternately; CPU is this process's (all threads: pyreqwest's I/O runs on a Tokio thread).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from naftiko_runtime.invoke.request import UpstreamRequest
from naftiko_runtime.invoke.transport import Transport, UpstreamSettings
from naftiko_runtime.invoke.wire import open_wire

from .arms import Upstream


async def measure(transport: Transport, url: str, calls: int, concurrency: int) -> tuple[float, float]:
    """(CPU ms per call, calls per second) over `calls` GETs, `concurrency` at a time, after a warm-up."""
    async def worker(count: int) -> None:
        for _ in range(count):
            answer = await transport.send(UpstreamRequest("GET", url, {"Accept": "application/json"}, pool_key="bench", upstream="up.get-small"))
            assert answer.status == 200, answer.status

    await asyncio.gather(*(worker(20) for _ in range(concurrency)))
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = calls // concurrency * concurrency
    return cpu / done * 1000, done / wall


async def compare(url: str, opts: argparse.Namespace) -> None:
    for _ in range(opts.rounds):
        for client in ("aiohttp", "pyreqwest"):
            transport = open_wire(UpstreamSettings(client=client))
            try:
                ms, rps = await measure(transport, url, opts.calls, opts.concurrency)
            finally:
                await transport.close()
            print(f"{client:10} {ms:.3f} ms CPU per call  {rps:,.0f} calls/s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.clients", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="naftiko-clients-") as tmp:
        upstream = Upstream.start(Path(tmp), "auto", 0)
        try:
            if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
                os.sched_setaffinity(0, {1})
            print(f"upstream: {upstream.kind}")
            asyncio.run(compare(upstream.url + "/small", opts))
        finally:
            upstream.close()


if __name__ == "__main__":
    main()
