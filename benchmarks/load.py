"""Load generators: wrk for the closed loop, and our own open-loop generator for fixed rates.

wrk2 (fixed-rate wrk) is not packaged by Debian, so fixed-rate latency comes from the
small asyncio/aiohttp generator below: requests are *scheduled* at exact intervals and
latency is measured from the scheduled time, so a stalled server is charged for the
queue it causes (no coordinated omission). The same module also has a closed-loop mode,
used when wrk is absent and by `--quick`.

    python -m benchmarks.load --mode open --rate 500 --duration 5 --url http://127.0.0.1:8080/small
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RequestSpec:
    """One request, sent again and again."""

    method: str
    url: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: bytes | None = None  # a fragment a good answer contains (checked once, before the load)
    refuse: bytes | None = None  # a fragment a good answer must not contain

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "body": self.body.decode() if self.body else None, "headers": self.headers}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestSpec:
        return cls(data["method"], data["url"], data["body"].encode() if data.get("body") else None, data.get("headers") or {})


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# -- wrk ---------------------------------------------------------------------------------
def wrk_binary() -> str | None:
    return shutil.which("wrk")


def lua_script(spec: RequestSpec, directory: Path) -> Path:
    """A wrk script that sets method, headers and body (wrk's own flags cannot send a body)."""
    lines = [f"wrk.method = {json.dumps(spec.method)}"]
    if spec.body is not None:
        lines.append(f"wrk.body = {json.dumps(spec.body.decode())}")
    for name, value in spec.headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    # Count answers that are not 2xx ourselves too: wrk reports them, but we want them per run.
    path = directory / f"wrk-{abs(hash((spec.method, spec.url, spec.body))) % 10**8}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


REPO = Path(__file__).resolve().parents[1]  # the generator runs as `-m benchmarks.load` from here

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run_wrk(spec: RequestSpec, *, connections: int, duration: float, cpu: int | None, directory: Path, threads: int = 1) -> dict[str, Any]:
    """Closed loop: `connections` connections each sending as fast as answers come back."""
    script = lua_script(spec, directory)
    cmd = [wrk_binary() or "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "-s", str(script), spec.url]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    result: dict[str, Any] = {"tool": "wrk", "requests": 0, "rps": 0.0, "errors": 0, "non2xx": 0}
    if m := re.search(r"(\d+) requests in", out):
        result["requests"] = int(m.group(1))
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        result["rps"] = float(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        result["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        result["errors"] = sum(int(g) for g in m.groups())
    for q in ("50", "99"):
        if m := re.search(rf"^\s+{q}%\s+(\S+)", out, re.M):
            result[f"p{q}_ms"] = _ms(m.group(1))
    return result


# -- the Python generator ----------------------------------------------------------------
async def _closed(spec: RequestSpec, connections: int, duration: float) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = non2xx = 0
    end = time.perf_counter() + duration
    conn = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=conn, skip_auto_headers=("User-Agent",)) as session:

        async def worker() -> None:
            nonlocal errors, non2xx
            while time.perf_counter() < end:
                t = time.perf_counter()
                status = await _send(session, spec)
                if status is None:
                    errors += 1
                    continue
                non2xx += status >= 300
                latencies.append((time.perf_counter() - t) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    return _summary("python-closed", latencies, elapsed, errors, non2xx)


async def _send(session: Any, spec: RequestSpec) -> int | None:
    """One request, its body read; the status, or None when it failed."""
    try:
        async with session.request(spec.method, spec.url, data=spec.body, headers=spec.headers) as resp:
            await resp.read()
            return resp.status
    except Exception:
        return None


async def _open(spec: RequestSpec, rate: float, duration: float, connections: int) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = non2xx = 0
    conn = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=conn, skip_auto_headers=("User-Agent",)) as session:

        async def one(scheduled: float) -> None:
            nonlocal errors, non2xx
            status = await _send(session, spec)
            if status is None:
                errors += 1
                return
            non2xx += status >= 300
            latencies.append((time.perf_counter() - scheduled) * 1000)

        # Open the connections first, so the figures are for keep-alive traffic.
        await asyncio.gather(*(one(time.perf_counter()) for _ in range(min(connections, 8))))
        latencies.clear()
        total = int(rate * duration)
        start = time.perf_counter()
        tasks = []
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    result = _summary("python-open", latencies, elapsed, errors, non2xx)
    result["target_rps"] = rate
    return result


def _summary(tool: str, latencies: list[float], elapsed: float, errors: int, non2xx: int) -> dict[str, Any]:
    return {
        "tool": tool,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "errors": errors,
        "non2xx": non2xx,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


def run_python(spec: RequestSpec, *, mode: str, duration: float, connections: int, rate: float = 0.0, cpu: int | None = None) -> dict[str, Any]:
    """Run the generator as its own process (pinned to `cpu`), so it never shares the SUT's core."""
    cmd = [sys.executable, "-m", "benchmarks.load", "--mode", mode, "--duration", str(duration),
           "--connections", str(connections), "--rate", str(rate), "--spec", json.dumps(spec.to_json())]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["open", "closed"], default="open")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--spec", help="a RequestSpec as JSON")
    parser.add_argument("--url")
    parser.add_argument("--method", default="GET")
    args = parser.parse_args()
    spec = RequestSpec.from_json(json.loads(args.spec)) if args.spec else RequestSpec(args.method, args.url)
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    if args.mode == "closed":
        result = asyncio.run(_closed(spec, args.connections, args.duration))
    else:
        result = asyncio.run(_open(spec, args.rate, args.duration, args.connections))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
