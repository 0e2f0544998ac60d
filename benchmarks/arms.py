"""The systems under test: direct, nginx proxy_pass, our REST adapter, our MCP adapter, FastMCP.

Each arm is a process (or none, for `direct`) started on the SUT core, and knows the
request it sends for each workload. Capability files and the FastMCP server script are
generated into the run's temp dir and point at the upstream stub.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import upstream as up
from .load import RequestSpec

REPO = Path(__file__).resolve().parents[1]  # helper processes run `-m benchmarks.…` from here
WORKLOADS = ("get1k", "post2k", "shape50k", "slow50ms")
WORKLOAD_TITLES = {
    "get1k": "GET, 1 KB answer",
    "post2k": "POST, 2 KB body",
    "shape50k": "GET 50 KB, shaped to 5 fields",
    "slow50ms": "GET, upstream waits 50 ms, 64 conns",
}
PATHS = {"get1k": "/small", "post2k": "/echo", "shape50k": "/large", "slow50ms": "/slow"}
TOOLS = {"get1k": "get-small", "post2k": "post-echo", "shape50k": "get-large", "slow50ms": "get-slow"}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
FIVE_FIELDS = ("id", "name", "status", "owner", "updated")

BENCH_VENV = Path(os.environ.get("NAFTIKO_BENCH_VENV", ".bench-venv"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cmd: list[str], cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd] if cpu is not None and shutil.which("taskset") else cmd


# -- /proc figures -------------------------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except OSError:
            pass
    return pids


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process tree, from /proc/<pid>/stat."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICK


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of the process tree, summed."""
    total = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def fetch(spec: RequestSpec, timeout: float = 5.0) -> tuple[int, bytes]:
    req = urllib.request.Request(spec.url, data=spec.body, method=spec.method, headers=spec.headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ok(spec: RequestSpec, proc: subprocess.Popen[bytes] | None, timeout: float = 30.0, interval: float = 0.01) -> float:
    """Seconds until `spec` first answers 2xx."""
    start = time.perf_counter()
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            status, _ = fetch(spec, timeout=2)
            if 200 <= status < 300:
                return time.perf_counter() - start
        except (OSError, urllib.error.URLError):
            pass
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"{spec.url} did not answer within {timeout}s")
        time.sleep(interval)


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- the upstream ----------------------------------------------------------------------------
@dataclass
class Upstream:
    """The fixed-answer upstream (nginx, else the aiohttp stub) and the aiohttp stub behind /slow."""

    kind: str
    url: str
    stub_url: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def start(cls, directory: Path, prefer: str, cpu: int | None) -> Upstream:
        stub_port = free_port()
        stub = subprocess.Popen(pinned([sys.executable, "-m", "benchmarks.upstream", "--port", str(stub_port)], cpu),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
        stub_url = f"http://127.0.0.1:{stub_port}"
        procs = [stub]
        wait_ok(RequestSpec("GET", stub_url + "/small"), stub)
        nginx = up.nginx_binary() if prefer in ("auto", "nginx") else None
        if nginx is None:
            return cls("aiohttp stub", stub_url, stub_url, procs)
        port = free_port()
        d = directory / "nginx-upstream"
        d.mkdir(parents=True, exist_ok=True)
        conf = up.nginx_upstream_conf(d, port).replace(
            "location = /echo", f"location = /slow {{ proxy_pass {stub_url}; proxy_http_version 1.1; proxy_set_header Connection \"\"; }}\n    location = /echo"
        )
        (d / "nginx.conf").write_text(conf)
        proc = subprocess.Popen(pinned([nginx, "-c", str(d / "nginx.conf"), "-p", str(d)], cpu),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ok(RequestSpec("GET", url + "/small"), proc)
        except Exception:
            for p in procs:
                stop(p)
            raise
        return cls("nginx", url, stub_url, procs)

    def close(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)


# -- capability files -----------------------------------------------------------------------
_SHAPE = """
              outputParameters:
                - type: object
                  properties:
""" + "".join(f"                    {f}: {{type: string, mapping: $.{f}}}\n" for f in FIVE_FIELDS)

CONSUMES = """naftiko: 1.0.0-alpha2
info:
  label: Benchmark
  description: The operations the benchmark sends, against the upstream stub.
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: http://upstream.invalid
      resources:
        - name: small
          path: /small
          operations:
            - {name: get-small, method: GET}
        - name: echo
          path: /echo
          operations:
            - name: post-echo
              method: POST
              inputParameters:
                - {name: items, in: body}
        - name: large
          path: /large
          operations:
            - {name: get-large, method: GET}
        - name: slow
          path: /slow
          operations:
            - {name: get-slow, method: GET}
  exposes:
"""

REST_EXPOSES = """    - type: rest
      namespace: bench-rest
      port: 8080
      resources:
        - path: /small
          operations:
            - {method: GET, name: get-small, call: up.get-small}
        - path: /echo
          operations:
            - {method: POST, name: post-echo, call: up.post-echo}
        - path: /large
          operations:
            - method: GET
              name: get-large
              call: up.get-large
""" + _SHAPE + """        - path: /slow
          operations:
            - {method: GET, name: get-slow, call: up.get-slow}
"""

def _mcp_shape() -> str:
    lines = ["          outputParameters:", "            - type: object", "              properties:"]
    lines += [f"                {f}: {{type: string, mapping: $.{f}}}" for f in FIVE_FIELDS]
    return "\n".join(lines) + "\n"


MCP_EXPOSES = """    - type: mcp
      namespace: bench-mcp
      port: 3001
      description: The benchmark's tools.
      tools:
        - {name: get-small, description: The 1 KB answer., call: up.get-small}
        - name: post-echo
          description: Send a 2 KB body.
          inputParameters:
            - {name: items, type: array, description: The items.}
          call: up.post-echo
        - name: get-large
          description: The 50 KB answer, shaped to five fields.
          call: up.get-large
""" + _mcp_shape() + """        - {name: get-slow, description: The slow answer., call: up.get-slow}
"""


def write_capabilities(directory: Path) -> dict[str, Path]:
    files = {"rest": directory / "bench-rest.yaml", "mcp": directory / "bench-mcp.yaml"}
    files["rest"].write_text(CONSUMES + REST_EXPOSES)
    files["mcp"].write_text(CONSUMES + MCP_EXPOSES)
    return files


def write_many_tools(directory: Path, count: int = 500) -> Path:
    """A capability with `count` consumed operations, each exposed as an MCP tool with two inputs."""
    lines = [
        "naftiko: 1.0.0-alpha2",
        "info: {label: Many tools, description: Generated for the tools/list benchmark.}",
        "capability:",
        "  consumes:",
        "    - type: http",
        "      namespace: up",
        "      baseUri: http://upstream.invalid",
        "      resources:",
    ]
    for i in range(count):
        lines += [
            f"        - name: r{i}",
            f"          path: /items{i}/{{{{id}}}}",
            "          operations:",
            f"            - name: op-{i}",
            "              method: GET",
            "              inputParameters:",
            "                - {name: id, in: path}",
            "                - {name: limit, in: query}",
        ]
    lines += ["  exposes:", "    - type: mcp", "      namespace: many", "      port: 3001", "      description: Many tools.", "      tools:"]
    for i in range(count):
        lines += [
            f"        - name: tool-{i}",
            f"          description: Operation {i} of {count}, reading one item of collection {i}.",
            f"          call: up.op-{i}",
            "          inputParameters:",
            "            - {name: id, type: string, description: The item id.}",
            "            - {name: limit, type: integer, description: How many., required: false}",
        ]
    path = directory / "many-tools.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def openapi_document(base_url: str) -> dict[str, Any]:
    """The same four operations, for FastMCP's `from_openapi`."""
    answer = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Benchmark", "version": "1.0.0"},
        "servers": [{"url": base_url}],
        "paths": {
            "/small": {"get": {"operationId": "get-small", "summary": "The 1 KB answer.", "responses": answer}},
            "/echo": {"post": {
                "operationId": "post-echo", "summary": "Send a 2 KB body.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}}}},
                "responses": answer,
            }},
            "/large": {"get": {"operationId": "get-large", "summary": "The 50 KB answer (not shaped: FastMCP has no JSONPath shaping).", "responses": answer}},
            "/slow": {"get": {"operationId": "get-slow", "summary": "The slow answer.", "responses": answer}},
        },
    }


FASTMCP_SERVER = '''
import json, sys, httpx2 as httpx
from fastmcp import FastMCP
spec_file, base_url, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = httpx.AsyncClient(base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))
server = FastMCP.from_openapi(json.load(open(spec_file)), client=client, name="bench")
server.run(transport="http", host="127.0.0.1", port=port, path="/mcp", stateless_http=True, json_response=True,
           show_banner=False, log_level="warning")
'''


# -- arms ------------------------------------------------------------------------------------
class Arm:
    name = ""
    title = ""
    proc: subprocess.Popen[bytes] | None = None
    skipped: str | None = None
    base = ""

    def start(self, directory: Path, upstream: Upstream, cpu: int | None) -> None:
        raise NotImplementedError

    def spec(self, workload: str, upstream: Upstream) -> RequestSpec:
        body = up.post_body() if workload == "post2k" else None
        headers = {"Content-Type": "application/json"} if body else {}
        return RequestSpec("POST" if body else "GET", self.base + PATHS[workload], body, headers)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def close(self) -> None:
        stop(self.proc)


class Direct(Arm):
    name, title = "direct", "direct to the upstream (the limit)"

    def start(self, directory: Path, upstream: Upstream, cpu: int | None) -> None:
        self.base = upstream.url


class NginxProxy(Arm):
    name, title = "nginx", "nginx proxy_pass, upstream keep-alive (the floor)"
    workers = 1

    def start(self, directory: Path, upstream: Upstream, cpu: int | None) -> None:
        nginx = up.nginx_binary()
        if nginx is None:
            self.skipped = "nginx is not installed (apt-get install -y nginx-light)"
            return
        port = free_port()
        d = directory / f"nginx-proxy-{self.workers}"
        d.mkdir(parents=True, exist_ok=True)
        slow_port = int(upstream.url.rsplit(":", 1)[1])
        conf = up.nginx_proxy_conf(d, port, int(upstream.url.rsplit(":", 1)[1]), slow_port, self.workers)
        cpu = cpu if self.workers == 1 else None  # two processes: both cores, like the two-worker REST arm
        (d / "nginx.conf").write_text(conf)
        self.proc = subprocess.Popen(pinned([nginx, "-c", str(d / "nginx.conf"), "-p", str(d)], cpu),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        wait_ok(RequestSpec("GET", self.base + "/small"), self.proc)


class NginxProxy2(NginxProxy):
    name, title = "nginx2", "nginx proxy_pass, worker_processes 2 (unpinned)"
    workers = 2


def naftiko_command(file: Path, upstream_url: str, *, rest_port: int | None = None, mcp_port: int | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "naftiko_runtime", "run", str(file), "--upstream", f"up={upstream_url}"]
    if rest_port is not None:
        cmd += ["--rest-port", str(rest_port)]
    if mcp_port is not None:
        cmd += ["--mcp-port", str(mcp_port)]
    return cmd


class NaftikoRest(Arm):
    name, title = "rest", "naftiko REST adapter"
    workers = 1
    extra_args: tuple[str, ...] = ()  # more `naftiko run` options (benchmarks.accel: --http-client pyreqwest)

    def start(self, directory: Path, upstream: Upstream, cpu: int | None) -> None:
        port = free_port()
        log = open(directory / f"naftiko-{self.name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        command = [*naftiko_command(directory / "bench-rest.yaml", upstream.url, rest_port=port), *self.extra_args]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
            cpu = None  # two processes: both cores, like the two-worker nginx arm
        self.proc = subprocess.Popen(pinned(command, cpu), stdout=log, stderr=log)
        self.base = f"http://127.0.0.1:{port}"
        wait_ok(RequestSpec("GET", self.base + "/small"), self.proc)


class NaftikoRest2(NaftikoRest):
    name, title = "rest2", "naftiko REST adapter, --workers 2 (unpinned)"
    workers = 2


def tool_call(url: str, tool: str, arguments: dict[str, Any]) -> RequestSpec:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    return RequestSpec("POST", url, json.dumps(body, separators=(",", ":")).encode(), dict(MCP_HEADERS), refuse=b'"isError":true')


class NaftikoMcp(Arm):
    name, title = "mcp", "naftiko MCP tools/call"
    file = "bench-mcp.yaml"

    def start(self, directory: Path, upstream: Upstream, cpu: int | None) -> None:
        port = free_port()
        log = open(directory / f"{self.name}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(pinned(naftiko_command(directory / self.file, upstream.url, mcp_port=port), cpu),
                                     stdout=log, stderr=log)
        self.base = f"http://127.0.0.1:{port}/mcp"
        wait_ok(self.spec("get1k", upstream), self.proc)

    def spec(self, workload: str, upstream: Upstream) -> RequestSpec:
        arguments = json.loads(up.post_body()) if workload == "post2k" else {}
        return tool_call(self.base, self.tool(workload), arguments)

    def tool(self, workload: str) -> str:
        return TOOLS[workload]


class FastMcp(NaftikoMcp):
    name, title = "fastmcp", "FastMCP from_openapi tools/call"

    def tool(self, workload: str) -> str:
        return TOOLS[workload].replace("-", "_")  # FastMCP names tools after operationId, `-` as `_`

    def start(self, directory: Path, upstream: Upstream, cpu: int | None) -> None:
        python = BENCH_VENV / "bin" / "python"
        if not python.exists():
            self.skipped = f"no FastMCP venv at {BENCH_VENV} (python3 -m venv .bench-venv && .bench-venv/bin/pip install fastmcp)"
            return
        check = subprocess.run([str(python), "-c", "import fastmcp; print(fastmcp.__version__)"], capture_output=True, text=True)
        if check.returncode != 0:
            self.skipped = f"fastmcp does not import in {BENCH_VENV}: {check.stderr.strip().splitlines()[-1:]}"
            return
        self.version = check.stdout.strip()
        spec_file = directory / "openapi.json"
        spec_file.write_text(json.dumps(openapi_document(upstream.url)))
        script = directory / "fastmcp_server.py"
        script.write_text(FASTMCP_SERVER)
        port = free_port()
        log = open(directory / "fastmcp.log", "wb")  # noqa: SIM115
        env = {**os.environ, "FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen(pinned([str(python), str(script), str(spec_file), upstream.url, str(port)], cpu),
                                     stdout=log, stderr=log, env=env)
        self.base = f"http://127.0.0.1:{port}/mcp"
        wait_ok(self.spec("get1k", upstream), self.proc, timeout=60)


ARMS: dict[str, type[Arm]] = {a.name: a for a in (Direct, NginxProxy, NaftikoRest, NginxProxy2, NaftikoRest2, NaftikoMcp, FastMcp)}
