"""Run `naftiko run` on a tutorial file as a real subprocess and talk to it as a client would.

`RunningCapability` starts the runtime with every adapter on a free port (`--mcp-port 0
--rest-port 0 --skill-port 0 --control-port 0`), learns the bound addresses from its `ready`
log event, then polls `/health/ready` until it answers 200. A file's declared ports are mapped
to the bound ones by adapter type, so a test can say "port 3001" as tests.yml does.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from naftiko_runtime.binding.binds import resolve_capability_binds
from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import McpAdapter
from naftiko_runtime.exposes.auth import Credentials

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0  # generous: CI machines may be busy; a healthy start takes 1-3 s


class RuntimeFailed(AssertionError):
    pass


class RunningCapability:
    def __init__(self, file: Path, upstream: str, extra_args: list[str] | None = None) -> None:
        self.file = file
        self.upstream = upstream
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[str] | None = None
        self.launched = 0.0
        self.lines: deque[str] = deque(maxlen=400)
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.endpoints: dict[tuple[str, str], str] = {}  # (type, namespace) -> base URL
        self.declared = [a for a in (YAML(typ="safe").load(file.read_text())["capability"].get("exposes") or [])]

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> "RunningCapability":
        return self.launch().wait_started()

    def launch(self) -> "RunningCapability":
        """Start the process without waiting for it (see `wait_started`)."""
        if self.proc is not None:
            return self
        cmd = [
            sys.executable, "-m", "naftiko_runtime", "run", str(self.file),
            "--upstream", f"*={self.upstream}",
            "--host", "127.0.0.1",
            "--mcp-port", "0", "--rest-port", "0", "--skill-port", "0", "--control-port", "0",
            "--engine-port", "0", "--engine-db", ":memory:",
            "--log-format", "json",
            *self.extra_args,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, encoding="utf-8",
        )
        self.launched = time.monotonic()
        threading.Thread(target=self._read, name=f"log-{self.file.name}", daemon=True).start()
        return self

    def wait_started(self) -> "RunningCapability":
        """Wait for the `ready` log event, then for every opened port to answer /health/ready with 200."""
        assert self.proc is not None, "launch() first"
        if self.endpoints:
            return self
        deadline = self.launched + START_TIMEOUT
        while True:
            try:
                event = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeFailed(f"{self.file.name}: no 'ready' within {START_TIMEOUT:g} s\n{self.log()}") from None
            if event is None:
                raise RuntimeFailed(f"{self.file.name}: runtime exited with {self.proc.wait()}\n{self.log()}")
            if event.get("event") == "ready":
                endpoints: dict[tuple[str, str], str] = {}
                for endpoint in event.get("endpoints", []):
                    kind, _, rest = endpoint.partition(" ")
                    names, _, url = rest.rpartition(" ")
                    base = url.removesuffix("/mcp")
                    for ns in names.split(", "):
                        endpoints[(kind, ns)] = base
                break
        self._wait_ready(endpoints, deadline)
        self.endpoints = endpoints
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self.events.put(event)
        self.events.put(None)

    def _wait_ready(self, endpoints: dict[tuple[str, str], str], deadline: float) -> None:
        """Poll /health/ready on every port the runtime opened until each answers 200."""
        for base in set(endpoints.values()):
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/health/ready", timeout=5) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError):
                    pass
                if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                    raise RuntimeFailed(f"{self.file.name}: {base}/health/ready never answered 200\n{self.log()}")
                time.sleep(0.05)

    def terminate(self) -> None:
        """Ask the runtime to stop (SIGTERM, graceful) without waiting for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log(self) -> str:
        return "\n".join(self.lines)

    # -- addressing -----------------------------------------------------------------
    def url_for_port(self, declared_port: int) -> str:
        """The bound base URL of the adapter the file declares on `declared_port`."""
        for adapter in self.declared:
            if adapter.get("port") == declared_port:
                key = (str(adapter["type"]), str(adapter.get("namespace") or ""))
                if key in self.endpoints:
                    return self.endpoints[key]
                raise RuntimeFailed(f"{self.file.name}: {key} declared on {declared_port} is not served: {self.endpoints}")
        raise RuntimeFailed(f"{self.file.name} declares no adapter on port {declared_port}")

    def mcp_headers(self) -> dict[str, str]:
        """The credentials the file's MCP adapter requires, rendered from its binds."""
        result = load(self.file)
        assert result.capability is not None
        binds = resolve_capability_binds(result.capability)
        for adapter in result.capability.adapters:
            if isinstance(adapter, McpAdapter) and adapter.auth is not None:
                creds = Credentials.from_spec(adapter.auth, binds.context())
                assert creds is not None and creds.type == "bearer", "the tutorial's MCP adapters use bearer auth"
                return {"Authorization": f"Bearer {creds.expected}"}
        return {}


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Accept": "application/json", **(headers or {})})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text), text
    except ValueError:
        return status, None, text
