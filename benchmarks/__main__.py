"""Benchmark: naftiko's REST and MCP adapters against the upstream, nginx and FastMCP, side by side.

    python -m benchmarks [--quick] [--arms direct,nginx,rest,rest-pyreqwest,rest-granian,granian-min,mcp,fastmcp] [--out bench-results.json]

Sets everything up itself in a temp dir: the upstream stub (nginx if installed, else an
aiohttp stub), the arms, the capability files (pointed at the stub with `--upstream`),
and prints one table; `--out` writes the same figures as JSON.

Tools, each installed by one line (an arm whose tool is missing is reported as skipped):

    apt-get update && apt-get install -y nginx-light wrk          # upstream, proxy arm, closed loop
    python3 -m venv .bench-venv && .bench-venv/bin/pip install fastmcp   # the FastMCP arm
    pip install -e '.[fast]' granian uvloop          # rest-pyreqwest, rest-granian, granian-min (benchmarks/accel.py)

Method. The system under test runs on core 1 (`taskset -c 1`); the load generator and
the upstream share core 0. Maximum throughput is closed loop (wrk, one thread, 32
connections; 64 for the slow upstream; a Lua script sets method, body and headers);
latency is measured at fixed rates by our own open-loop generator (wrk2 is not packaged),
from each request's scheduled time. Each arm and workload gets a warm-up, then
`--reps` closed-loop runs: the table shows the median and the spread (min–max). CPU
seconds per 1,000 requests come from /proc/<pid>/stat (utime+stime) over the closed-loop
runs; peak RSS is VmHWM at the end of the arm.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from naftiko_runtime import __version__

from . import accel
from . import arms as A
from . import load as L
from . import report as R

ARMS = {**A.ARMS, **accel.ARMS}

SUT_CPU, LOAD_CPU = 1, 0


def default_corpus() -> Path:
    here = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("NAFTIKO_CORPUS", here.parent / "shared" / "corpus"))


def closed_loop(spec: L.RequestSpec, *, connections: int, duration: float, tool: str, directory: Path) -> dict[str, Any]:
    if tool == "wrk":
        return L.run_wrk(spec, connections=connections, duration=duration, cpu=LOAD_CPU, directory=directory)
    return L.run_python(spec, mode="closed", duration=duration, connections=connections, cpu=LOAD_CPU)


def bench_workload(arm: A.Arm, workload: str, upstream: A.Upstream, opts: argparse.Namespace, directory: Path) -> dict[str, Any]:
    spec = arm.spec(workload, upstream)
    status, body = A.fetch(spec)
    if not 200 <= status < 300 or (spec.refuse and spec.refuse in body):
        return {"error": f"answer {status}: {body[:200]!r}"}
    out: dict[str, Any] = {"answer_bytes": len(body)}
    connections = 64 if workload == "slow50ms" else opts.connections
    closed_loop(spec, connections=connections, duration=opts.warmup, tool=opts.load, directory=directory)
    cpu0 = A.cpu_seconds(arm.pid) if arm.pid else None
    runs = [closed_loop(spec, connections=connections, duration=opts.duration, tool=opts.load, directory=directory) for _ in range(opts.reps)]
    if arm.pid and cpu0 is not None:
        requests = sum(r["requests"] for r in runs)
        out["cpu_s_per_1k"] = (A.cpu_seconds(arm.pid) - cpu0) / requests * 1000 if requests else None
    out["closed"] = {
        "tool": runs[0]["tool"],
        "connections": connections,
        "rps": R.spread([r["rps"] for r in runs]),
        "runs": runs,
        "errors": sum(r["errors"] + r["non2xx"] for r in runs),
    }
    best = out["closed"]["rps"]["median"]
    out["fixed"] = []
    for rate in opts.rates:
        if rate > 0.8 * best:
            out["fixed"].append({"target_rps": rate, "skipped": f"above 80% of this arm's maximum ({best:.0f}/s)"})
            continue
        result = L.run_python(spec, mode="open", rate=rate, duration=opts.duration, connections=64, cpu=LOAD_CPU)
        out["fixed"].append(result)
    return out


def bench_arm(name: str, upstream: A.Upstream, opts: argparse.Namespace, directory: Path) -> dict[str, Any]:
    arm = ARMS[name]()
    started = time.perf_counter()
    try:
        arm.start(directory, upstream, SUT_CPU)
    except Exception as exc:
        arm.close()
        return {"title": arm.title, "skipped": f"could not start: {exc}"}
    if arm.skipped:
        return {"title": arm.title, "skipped": arm.skipped}
    result: dict[str, Any] = {"title": arm.title, "start_s": time.perf_counter() - started, "workloads": {}}
    if getattr(arm, "version", None):
        result["version"] = arm.version
    try:
        for workload in opts.workloads:
            print(f"  {name:8} {workload} ...", file=sys.stderr, flush=True)
            try:
                result["workloads"][workload] = bench_workload(arm, workload, upstream, opts, directory)
            except Exception as exc:
                result["workloads"][workload] = {"error": str(exc)}
        if arm.pid:
            result["peak_rss_mb"] = A.peak_rss_mb(arm.pid)
    finally:
        arm.close()
    return result


def cold_start(files: dict[str, Path], upstream: A.Upstream, runs: int) -> dict[str, Any]:
    """`naftiko run` (a fresh interpreter) to the first 200 from the REST adapter."""
    times = []
    for _ in range(runs):
        port = A.free_port()
        start = time.perf_counter()
        proc = subprocess.Popen(A.pinned(A.naftiko_command(files["rest"], upstream.url, rest_port=port), SUT_CPU),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            A.wait_ok(L.RequestSpec("GET", f"http://127.0.0.1:{port}/small"), proc, interval=0.002)
            times.append(time.perf_counter() - start)
        finally:
            A.stop(proc)
    return {**R.spread(times), "n": runs, "runs": times}


SEED = Path(__file__).resolve().parents[1] / "capabilities" / "humanitec-pipelineruns.yaml"


def seed_rss(directory: Path, runs: int) -> dict[str, Any]:
    """RSS of the seed command (REST + MCP + the local engine, one process) once it logs `ready`."""
    values = []
    for i in range(runs):
        log_path = directory / f"seed-{i}.log"
        command = [sys.executable, "-m", "naftiko_runtime", "run", str(SEED), "--rest-port", "0", "--mcp-port", "0",
                   "--engine-port", "0", "--engine-db", ":memory:"]
        with log_path.open("wb") as log:
            proc = subprocess.Popen(A.pinned(command, SUT_CPU), stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while b" ready " not in log_path.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the seed command did not start: {log_path.read_text()[-500:]}")
                time.sleep(0.05)
            status = Path(f"/proc/{proc.pid}/status").read_text()
            values.append(int(status.split("VmRSS:")[1].split()[0]) / 1024)
        finally:
            A.stop(proc)
    return {**R.spread(values), "n": runs, "runs": values, "command": f"naftiko run {SEED.relative_to(SEED.parents[1])}"}


# Reading the same files with libyaml and nothing else: the floor `naftiko validate` is measured against.
_PARSE_ONLY = """
import sys
try:
    import yaml
    load, what = (lambda text: yaml.load(text, Loader=yaml.CSafeLoader)), "PyYAML CSafeLoader"
except (ImportError, AttributeError):
    from ruamel.yaml import YAML
    load, what = YAML(typ="safe", pure=False).load, "ruamel.yaml C loader"
for name in sys.argv[1:]:
    with open(name, encoding="utf-8") as fh:
        load(fh.read())
print(what)
"""


def validate_corpus(corpus: Path, runs: int, copies: int = 4) -> dict[str, Any]:
    """`naftiko validate` of the corpus ×`copies` (1,000 files) against parsing the same files with libyaml.

    Both are fresh interpreters on the same pinned core (so the process pool stays out: one core, one
    process), run alternately so that the machine's load falls on both alike; the ratio is per pair.
    """
    files = [str(f) for f in sorted(corpus.rglob("*.yaml"))] * copies
    validate_s, parse_s, parser = [], [], ""
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(A.pinned([sys.executable, "-m", "naftiko_runtime", "validate", "-q", *files], SUT_CPU), capture_output=True, check=False)
        validate_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        done = subprocess.run(A.pinned([sys.executable, "-c", _PARSE_ONLY, *files], SUT_CPU), capture_output=True, text=True,
                              check=False)
        parse_s.append(time.perf_counter() - start)
        parser = done.stdout.strip() or f"failed: {done.stderr.strip()[-200:]}"
    seconds = R.spread(validate_s)
    return {"corpus": str(corpus), "files": len(files), "copies": copies, "seconds": seconds,
            "per_1000_files_s": seconds["median"] / len(files) * 1000,
            "parse": {"parser": parser, "seconds": R.spread(parse_s)},
            "vs_parse": R.spread([v / p for v, p in zip(validate_s, parse_s)]),
            "schema_backend": os.environ.get("NAFTIKO_SCHEMA_BACKEND") or "jsonschema-rs"}


def tools_list(directory: Path, upstream: A.Upstream, count: int, runs: int) -> dict[str, Any]:
    file = A.write_many_tools(directory, count)
    port = A.free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(A.pinned(A.naftiko_command(file, upstream.url, mcp_port=port), SUT_CPU),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        spec = L.RequestSpec("POST", f"http://127.0.0.1:{port}/mcp",
                             b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}', dict(A.MCP_HEADERS))
        A.wait_ok(spec, proc, timeout=60)
        started = time.perf_counter() - start
        times, size, tools = [], 0, 0
        for _ in range(runs):
            t = time.perf_counter()
            _status, body = A.fetch(spec, timeout=30)
            times.append((time.perf_counter() - t) * 1000)
            size = len(body)
        tools = len(json.loads(body)["result"]["tools"])
    finally:
        A.stop(proc)
    return {"tools": tools, "ms": R.spread(times), "bytes": size, "start_s": started}


def versions() -> dict[str, str]:
    out = {"naftiko-runtime": __version__, "python": platform.python_version()}
    for name in ("aiohttp", "mcp", "uvicorn", "httptools", "orjson", "jsonschema", "jsonschema-rs", "ruamel.yaml", "ruamel.yaml.clib"):
        try:
            from importlib.metadata import version

            out[name] = version(name)
        except Exception:
            pass
    for tool, args in (("nginx", ["-v"]), ("wrk", ["-v"])):
        try:
            p = subprocess.run([tool, *args], capture_output=True, text=True)
            out[tool] = (p.stderr or p.stdout).strip().splitlines()[0]
        except OSError:
            pass
    return out


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    return f"{os.cpu_count()} cores, {model}, {platform.system()} {platform.release()}"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds per arm: 1 s runs, one repetition, one rate (smoke check)")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated: " + ", ".join(ARMS))
    parser.add_argument("--workloads", default=",".join(A.WORKLOADS), help="comma-separated: " + ", ".join(A.WORKLOADS))
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per closed-loop run and per fixed-rate run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rates", default="200,1000", help="fixed rates (req/s) for the latency figures")
    parser.add_argument("--upstream", choices=["auto", "nginx", "aiohttp"], default="auto", help="what serves the fixed answers")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto", help="closed-loop generator")
    parser.add_argument("--no-extras", action="store_true", help="skip cold start, validate and tools/list")
    parser.add_argument("--extras", default="cold_start,validate,tools_list,seed_rss",
                        help="comma-separated: cold_start, validate, tools_list, seed_rss (e.g. `--arms '' --extras validate`)")
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--out", type=Path, help="write the figures as JSON here (e.g. bench-results.json)")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.duration, opts.warmup, opts.reps = 1.0, 0.5, 1
        opts.rates = opts.rates if "--rates" in (argv or sys.argv) else "200"
    opts.arms = [a for a in opts.arms.split(",") if a]
    opts.workloads = [w for w in opts.workloads.split(",") if w]
    opts.rates = [float(r) for r in str(opts.rates).split(",") if r]
    if opts.load == "auto":
        opts.load = "wrk" if L.wrk_binary() else "python"
    return opts


def main(argv: list[str] | None = None) -> dict[str, Any]:
    opts = parse(argv)
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "method": {"sut_cpu": SUT_CPU, "load_cpu": LOAD_CPU, "duration_s": opts.duration, "warmup_s": opts.warmup, "reps": opts.reps,
                   "connections": opts.connections, "closed_loop": opts.load, "fixed_rate": "python open loop (wrk2 not packaged)",
                   "rates": opts.rates, "quick": opts.quick},
        "arms": {},
        "extras": {"skipped": {}},
    }
    if opts.load == "python" and not opts.quick:
        results["method"]["closed_loop_note"] = "wrk not installed (apt-get install -y wrk): closed loop by the Python generator"
    with tempfile.TemporaryDirectory(prefix="naftiko-bench-") as tmp:
        directory = Path(tmp)
        files = A.write_capabilities(directory)
        upstream = A.Upstream.start(directory, opts.upstream, LOAD_CPU)
        results["upstream"] = upstream.kind
        print(f"upstream: {upstream.kind} at {upstream.url} (slow answers: aiohttp stub)", file=sys.stderr)
        try:
            for name in opts.arms:
                results["arms"][name] = bench_arm(name, upstream, opts, directory)
            if not opts.no_extras:
                print("  extras ...", file=sys.stderr, flush=True)
                extras = opts.extras.split(",")
                if "cold_start" in extras:
                    results["extras"]["cold_start_s"] = cold_start(files, upstream, 3 if opts.quick else 7)
                if "validate" not in extras:
                    pass
                elif opts.corpus.is_dir():
                    results["extras"]["validate"] = validate_corpus(opts.corpus, 1 if opts.quick else 3)
                else:
                    results["extras"]["skipped"]["validate"] = f"no corpus at {opts.corpus} (--corpus DIR)"
                if "seed_rss" in extras:
                    results["extras"]["seed_rss_mb"] = seed_rss(directory, 1 if opts.quick else 3)
                if "tools_list" in extras:
                    results["extras"]["tools_list"] = tools_list(directory, upstream, 500, 5 if opts.quick else 20)
        finally:
            upstream.close()
    results["ratios"] = R.ratios(results)
    print(f"\n{results['date']} · {results['machine']} · upstream: {results['upstream']}")
    print(" · ".join(f"{k} {v}" for k, v in results["versions"].items()))
    print(R.table(results))
    if opts.out:
        R.write_json(results, opts.out)
    return results


if __name__ == "__main__":
    main()
