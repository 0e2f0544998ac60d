"""Fixtures: the runtime `naftiko run` starts, in process, per capability file, reached over loopback.

Each runtime binds its MCP port as 0 and serves its consumes from the bundled local
engine (`--engine-db :memory:`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.runtime import InProcess, start

ROOT = Path(__file__).resolve().parents[2]
CAPS = ROOT / "capabilities"
PIPELINERUNS = CAPS / "humanitec-pipelineruns.yaml"
EVENT = CAPS / "humanitec-event.yaml"
INNGEST = CAPS / "inngest-runs.yaml"


class Running:
    """A runtime started in process for one capability file, reached over its MCP port."""

    def __init__(self, runtime: InProcess) -> None:
        self.runtime = runtime

    @property
    def port(self) -> int:
        return self.runtime.mcp_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.runtime.stop()


def start_runtime(file: Path, log: Path | None = None, *extra: str, env: dict[str, str] | None = None) -> Running:
    return Running(start(file, extra=list(extra), env=env, clean=True))


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
