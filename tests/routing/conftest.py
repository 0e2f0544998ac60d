"""A recording upstream per test, and a capability served in-process the way `naftiko run --live` serves it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from mcp.client import Client

from naftiko_runtime.exposes.mcp.server import build_server
from naftiko_runtime.runtime import RunOptions, Runtime


@dataclass
class Served:
    runtime: Runtime
    session: aiohttp.ClientSession

    def rest(self, namespace: str) -> str:
        return f"http://127.0.0.1:{self.runtime.started[('rest', namespace)]}"

    def mcp(self, namespace: str) -> Client:
        """An SDK client on the server object `naftiko run` serves for this MCP adapter (enter it in the test)."""
        for adapter, invoker in self.runtime.mcp_adapters():
            if adapter.namespace == namespace:
                return Client(build_server(adapter, invoker))
        raise KeyError(namespace)

    async def call(self, method: str, url: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.request(method, url, **kwargs) as response:
            return response.status, await response.text()


@contextlib.asynccontextmanager
async def serve(file: Path, upstreams: dict[str, str], env: dict[str, str] | None = None, *, stdio: bool = True) -> AsyncIterator[Served]:
    """Every adapter of `file` on free ports, its consumes sent to `upstreams` (as `--upstream`).
    `stdio`: MCP adapters are reached through `Served.mcp` only; else they listen on HTTP too."""
    options = RunOptions(
        files=[file], rest_port=0, mcp_port=0, skill_port=0, control_port=0, upstreams=upstreams,
        mode="live", stdio=stdio, engine_port=0, engine_db=":memory:", shutdown_grace=0.5, env=env or {},
    )
    runtime = Runtime(options)
    try:
        await runtime.start()
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=15)) as session:
            yield Served(runtime, session)
    finally:
        await runtime.stop()
