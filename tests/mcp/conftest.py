"""Fixtures: `naftiko run` as a subprocess per capability file, reached over loopback.

Each runtime gets a free MCP port and serves its consumes from the bundled local
engine (`--engine-db :memory:`), and is waited for on `/health/ready`, never slept for.
"""

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPS = ROOT / "capabilities"
PIPELINERUNS = CAPS / "humanitec-pipelineruns.yaml"
EVENT = CAPS / "humanitec-event.yaml"
INNGEST = CAPS / "inngest-runs.yaml"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen[bytes], deadline: float = 30.0) -> None:
    """Poll `url` until it answers 200, the process dies, or the deadline passes."""
    end = time.monotonic() + deadline
    last: object = None
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"naftiko run exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(0.05)  # polling interval, not synchronisation: the loop ends on the answer
    raise TimeoutError(f"{url} not ready after {deadline}s: {last}")


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_runtime(file: Path, log: Path, *extra: str, env: dict[str, str] | None = None) -> Running:
    port = free_port()
    cmd = [sys.executable, "-m", "naftiko_runtime", "run", str(file), "--engine-port", "0", "--engine-db", ":memory:",
           "--rest-port", "0", "--mcp-port", str(port), *extra]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HUMANITEC_", "INNGEST_", "NAFTIKO_"))}
    full_env.update(env or {})
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, env=full_env)
    running = Running(proc, port, log)
    try:
        wait_ready(f"http://127.0.0.1:{port}/health/ready", proc)
    except Exception:
        running.stop()
        raise RuntimeError(f"runtime for {file.name} did not start:\n{log.read_text()[-3000:]}") from None
    return running


@pytest.fixture(scope="module")
def runtimes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Running]]:
    """One runtime per shipped capability file, started lazily and shared by the module."""
    started: dict[str, Running] = {}
    logs = tmp_path_factory.mktemp("runtime-logs")

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, key: str) -> Running:
            running = start_runtime(CAPS / key, logs / f"{key}.log")
            started[key] = running
            self[key] = running
            return running

    yield Lazy()
    for running in started.values():
        running.stop()


def post_json(url: str, payload: dict, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], object]:
    """A raw JSON-RPC POST (to check the wire itself, not the SDK client's view of it)."""
    data = json.dumps(payload).encode()
    base = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    request = urllib.request.Request(url, data=data, method="POST", headers={**base, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            return response.status, dict(response.headers), json.loads(body) if body else None
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            parsed: object = json.loads(body)
        except ValueError:
            parsed = body.decode()
        return exc.code, dict(exc.headers), parsed
