"""Serve a reference-engine fixture the way `naftiko run` does, in-process, against a recording upstream."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from mcp.client import Client

from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import Capability
from naftiko_runtime.exposes.mcp.server import build_server
from naftiko_runtime.logs import LOGGER
from naftiko_runtime.runtime import RunOptions, Runtime

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Path:
    return FIXTURES / name


def load_ok(name: str) -> Capability:
    """The fixture loads at the default level (every JUnit test starts by deserializing it)."""
    result = load(fixture(name))
    assert result.ok, "\n".join(str(d) for d in result.errors)
    assert result.capability is not None
    return result.capability


@dataclass
class Served:
    runtime: Runtime
    session: aiohttp.ClientSession

    def rest_url(self, namespace: str) -> str:
        return f"http://127.0.0.1:{self.runtime.started[('rest', namespace)]}"

    def url(self, kind: str, namespace: str | None) -> str:
        return f"http://127.0.0.1:{self.runtime.started[(kind, namespace)]}"

    def mcp(self, namespace: str) -> Client:
        """An SDK client on the server object `naftiko run` serves for this MCP adapter (enter it in the test)."""
        for adapter, invoker in self.runtime.mcp_adapters():
            if adapter.namespace == namespace:
                return Client(build_server(adapter, invoker))
        raise KeyError(namespace)


@contextlib.asynccontextmanager
async def serve(name: str, upstream_url: str = "http://127.0.0.1:9", env: dict[str, str] | None = None) -> AsyncIterator[Served]:
    """Every adapter of the fixture on free ports (MCP through the in-memory SDK client), consumes sent upstream."""
    options = RunOptions(
        files=[fixture(name)], rest_port=0, mcp_port=0, skill_port=0, control_port=0, upstreams={"*": upstream_url},
        mode="live", stdio=True, engine_port=0, engine_db=":memory:", shutdown_grace=0.5, env=env or {},
    )
    runtime = Runtime(options)
    previous = LOGGER.level
    LOGGER.setLevel(logging.ERROR)
    try:
        await runtime.start()
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=15)) as session:
            yield Served(runtime, session)
    finally:
        await runtime.stop()
        LOGGER.setLevel(previous)


async def get_json(served: Served, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with served.session.request(method, url, **kwargs) as response:
        text = await response.text()
        try:
            import json

            return response.status, json.loads(text) if text else None
        except ValueError:
            return response.status, text
