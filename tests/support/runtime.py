"""`naftiko run` as a real subprocess on free loopback ports, waited for on /health/ready."""

from __future__ import annotations

import json
import os
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(predicate: Any, timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Call `predicate` until it returns something truthy; the interval only paces the polling."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"condition not met within {timeout}s (last: {value!r})")
        time.sleep(interval)


@dataclass
class Runtime:
    proc: subprocess.Popen[bytes]
    rest_port: int
    mcp_port: int
    log: Path
    args: list[str] = field(default_factory=list)

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def mcp(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}/mcp"

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def _ready(url: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"naftiko run exited with {proc.returncode}")
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def start(*files: Path | str, log: Path, extra: list[str] | None = None, env: dict[str, str] | None = None,
          wait_on: str = "rest") -> Runtime:
    rest_port, mcp_port = free_port(), free_port()
    args = [
        sys.executable, "-m", "naftiko_runtime", "run", *map(str, files),
        "--rest-port", str(rest_port), "--mcp-port", str(mcp_port),
        "--engine-port", "0", "--engine-db", ":memory:", *(extra or []),
    ]
    handle = log.open("wb")
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=full_env)
    runtime = Runtime(proc, rest_port, mcp_port, log, args)
    port = rest_port if wait_on == "rest" else mcp_port
    try:
        poll(lambda: _ready(f"http://127.0.0.1:{port}/health/ready", proc), timeout=30)
    except Exception:
        runtime.stop()
        raise RuntimeError(f"runtime did not start:\n{runtime.logs()}") from None
    return runtime


def request(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """One HTTP call; returns status, headers and the JSON body (or text, or None when empty)."""
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, rh, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, rh, raw = exc.code, dict(exc.headers), exc.read()
    if not raw:
        return status, rh, None
    try:
        return status, rh, json.loads(raw)
    except ValueError:
        return status, rh, raw.decode("utf-8", "replace")
