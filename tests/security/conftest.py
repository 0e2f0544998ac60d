"""Fixtures: the shipped capabilities served in-process (REST on an aiohttp test server, MCP on
uvicorn), every consumed namespace pointed at a recording upstream on loopback port 0."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestClient

from naftiko_runtime import logs
from naftiko_runtime.binding.binds import resolve_capability_binds
from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import Capability, McpAdapter, RestAdapter
from naftiko_runtime.exposes.mcp.http import serve_mcp_http
from naftiko_runtime.exposes.rest.app import Mounted, RestService, build_rest_app
from naftiko_runtime.invoke.client import UpstreamPool, UpstreamSettings
from naftiko_runtime.invoke.invoker import Invoker

from ..support.paths import CAPABILITIES
from ..support.recording_upstream import RecordingUpstream

FAST = UpstreamSettings(connect_timeout=2.0, total_timeout=5.0, retries=0, backoff=0.001)
PIPELINERUNS = CAPABILITIES / "humanitec-pipelineruns.yaml"
INNGEST = CAPABILITIES / "inngest-runs.yaml"


async def ready() -> tuple[bool, dict[str, Any]]:
    return True, {}


def load_file(path: Path) -> Capability:
    result = load(path)
    assert result.ok, [str(d) for d in result.errors]
    assert result.capability is not None
    return result.capability


@pytest.fixture
async def pool(http_client: str) -> AsyncIterator[UpstreamPool]:
    pool = UpstreamPool(dataclasses.replace(FAST, client=http_client))
    yield pool
    await pool.close()


def invoker_for(cap: Capability, pool: UpstreamPool, upstream: RecordingUpstream) -> Invoker:
    return Invoker(cap, resolve_capability_binds(cap, {}), pool, {"*": upstream.url})


RestFactory = Callable[[Path], Any]


class RestTestServer(BaseTestServer):
    """aiohttp's test server around the REST port's own low-level server (as `naftiko run` serves it)."""

    def __init__(self, service: RestService, **kwargs: Any) -> None:
        self.service = service
        super().__init__(**kwargs)

    async def _make_runner(self, **kwargs: Any) -> web.ServerRunner:
        return web.ServerRunner(self.service.server(**kwargs))


@pytest.fixture
async def rest(upstream: RecordingUpstream, pool: UpstreamPool) -> AsyncIterator[RestFactory]:
    """`await rest(file)`: a TestClient on the file's REST adapter(s)."""
    clients: list[TestClient[Any, Any]] = []

    async def factory(path: Path) -> TestClient[Any, Any]:
        cap = load_file(path)
        invoker = invoker_for(cap, pool, upstream)
        mounted = [Mounted(a, invoker) for a in cap.adapters if isinstance(a, RestAdapter)]
        client = TestClient(RestTestServer(build_rest_app(mounted, ready), host="127.0.0.1", port=0))
        await client.start_server()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def mcp(upstream: RecordingUpstream, pool: UpstreamPool) -> AsyncIterator[Callable[[Path], Any]]:
    """`await mcp(file)`: the URL of the file's MCP adapter served over HTTP on a free port."""
    servers: list[Any] = []

    async def factory(path: Path) -> str:
        cap = load_file(path)
        [adapter] = [a for a in cap.adapters if isinstance(a, McpAdapter)]
        server, task, port = await serve_mcp_http(adapter, invoker_for(cap, pool, upstream), "127.0.0.1", 0,
                                                  readiness=ready, allowed_hosts=[])
        servers.append((server, task))
        return f"http://127.0.0.1:{port}/mcp"

    yield factory
    for server, task in servers:
        server.should_exit = True
        await task


@pytest.fixture
def captured() -> Iterator[Any]:
    """`captured(fmt, level)`: configure the runtime's logging into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved = (list(logs.LOGGER.handlers), logs.LOGGER.level, logs.LOGGER.propagate, list(root.handlers), root.level)

    def configure(fmt: str = "text", level: str = "info") -> io.StringIO:
        buffer = io.StringIO()
        logs.configure(fmt, level, stream=buffer)
        return buffer

    yield configure
    logs.LOGGER.handlers[:], logs.LOGGER.level, logs.LOGGER.propagate = saved[0], saved[1], saved[2]
    root.handlers[:], root.level = saved[3], saved[4]
