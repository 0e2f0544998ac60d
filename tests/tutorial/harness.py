"""Serve a tutorial file as `naftiko run` would (in process) and talk to it as a client would.

`RunningCapability` starts the runtime with every adapter on a free port (`--mcp-port 0
--rest-port 0 --skill-port 0 --control-port 0`) and learns the bound addresses from it. A
file's declared ports are mapped to the bound ones by adapter type, so a test can say
"port 3001" as tests.yml does.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from naftiko_runtime.binding.binds import resolve_capability_binds
from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import McpAdapter
from naftiko_runtime.exposes.auth import Credentials
from tests.support.runtime import InProcess

REPO = Path(__file__).resolve().parents[2]


class RuntimeFailed(AssertionError):
    pass


class RunningCapability:
    def __init__(self, file: Path, upstream: str, extra_args: list[str] | None = None) -> None:
        self.file = file
        self.upstream = upstream
        self.extra_args = extra_args or []
        self.runtime: InProcess | None = None
        self.endpoints: dict[tuple[str, str], str] = {}  # (type, namespace) -> base URL
        self.declared = [a for a in (YAML(typ="safe").load(file.read_text())["capability"].get("exposes") or [])]

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> RunningCapability:
        return self.launch().wait_started()

    def launch(self) -> RunningCapability:
        """Start the runtime `naftiko run` would start for the file, in this process."""
        if self.runtime is not None:
            return self
        args = [
            str(self.file), "--upstream", f"*={self.upstream}", "--host", "127.0.0.1",
            "--mcp-port", "0", "--rest-port", "0", "--skill-port", "0", "--control-port", "0",
            "--engine-port", "0", "--engine-db", ":memory:", "--log-format", "json", *self.extra_args,
        ]
        self.runtime = InProcess(args)
        try:
            self.runtime.start()
        except Exception as exc:
            raise RuntimeFailed(f"{self.file.name}: did not start: {exc}\n{self.log()}") from None
        self.endpoints = {(kind, ns or ""): f"http://127.0.0.1:{port}" for (kind, ns), port in self.runtime.runtime.started.items()}
        return self

    def wait_started(self) -> RunningCapability:
        return self.launch()

    def terminate(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()

    def log(self) -> str:
        return self.runtime.logs() if self.runtime is not None else ""

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
