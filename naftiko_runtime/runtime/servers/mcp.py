"""MCP servers: one Streamable HTTP server per address (adapters sharing a port merged), and stdio."""

from __future__ import annotations

import asyncio
from typing import Any

from ...capability.model import McpAdapter
from ...exposes.health import Readiness
from ...exposes.mcp.shared import SharingConflict, merge
from ...invoke.invoker import Invoker
from ...limits import ConnectionLimits
from ...logs import LOGGER
from ..options import StartupError
from .base import cannot_listen


class McpHttpServer:
    kind = "mcp"

    def __init__(self, host: str, port: int, group: list[tuple[McpAdapter, Invoker]], readiness: Readiness, *,
                 allowed_hosts: list[str], max_body: int, shutdown_grace: float, limits: ConnectionLimits,
                 cors_origins: list[str] | None = None) -> None:
        self.host, self.requested, self.group, self.readiness = host, port, group, readiness
        self.cors_origins = cors_origins or []
        self.allowed_hosts, self.max_body, self.shutdown_grace, self.limits = allowed_hosts, max_body, shutdown_grace, limits
        self.server: Any = None
        self.task: asyncio.Task[None] | None = None
        self.port: int | None = None

    @property
    def namespaces(self) -> list[str]:
        return [a.namespace for a, _ in self.group]

    @property
    def name(self) -> str:
        return f"mcp {', '.join(self.namespaces)}"

    @property
    def ready(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/mcp"

    def _merged(self, group: list[tuple[McpAdapter, Invoker]]) -> tuple[McpAdapter, Invoker]:
        try:
            return merge(group)
        except SharingConflict as exc:
            raise StartupError(f"mcp port {self.requested}: {exc}") from None

    async def start(self) -> int:
        from ...exposes.mcp.http import serve_mcp_http

        adapter, invoker = self._merged(self.group)
        try:
            self.server, self.task, self.port = await serve_mcp_http(
                adapter, invoker, self.host, self.requested, readiness=self.readiness, allowed_hosts=self.allowed_hosts,
                max_body=self.max_body, shutdown_grace=self.shutdown_grace, limits=self.limits,
                cors_origins=self.cors_origins,
            )
        except OSError as exc:
            raise cannot_listen(f"mcp {adapter.namespace}", self.host, self.requested, exc) from None
        LOGGER.info("listening", extra={"adapter": self.name, "address": self.url})
        return self.port

    def prepare(self, group: list[tuple[McpAdapter, Invoker]]) -> tuple[McpAdapter, Invoker]:
        return self._merged(group)

    def swap(self, group: list[tuple[McpAdapter, Invoker]]) -> None:
        from ...exposes.mcp.http import swap_mcp

        swap_mcp(self.server, *self._merged(group))
        self.group = group

    def begin_stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True

    async def stop(self) -> None:
        self.begin_stop()
        if self.task is not None:
            await asyncio.wait({self.task}, timeout=self.shutdown_grace)
