"""MCP over stdin/stdout (`--stdio`): one adapter, its service slot refilled on reload."""

from __future__ import annotations

from typing import Any

from ...capability.model import McpAdapter
from ...invoke.invoker import Invoker
from ...logs import LOGGER


class StdioServer:
    kind = "mcp"
    port = None

    def __init__(self, adapter: McpAdapter, invoker: Invoker) -> None:
        from ...exposes.mcp.server import McpService, ServiceSlot, sdk_server

        self.adapter = adapter
        self.slot = ServiceSlot(McpService(adapter, invoker))
        self.server: Any = sdk_server(self.slot)
        self.running = False

    @property
    def namespaces(self) -> list[str]:
        return [self.adapter.namespace]

    @property
    def name(self) -> str:
        return f"mcp {self.adapter.namespace} (stdio)"

    @property
    def ready(self) -> bool:
        return self.running

    async def serve(self) -> None:
        """Serve until the client closes stdin."""
        import anyio
        from mcp.server.stdio import stdio_server

        from ...exposes.mcp.stdio_guard import guarded

        LOGGER.info("serving MCP over stdio", extra={"adapter": self.adapter.namespace})
        self.running = True
        try:
            async with stdio_server() as (read_stream, write_stream), anyio.create_task_group() as tg:
                messages = guarded(tg, read_stream, write_stream)
                await self.server.run(messages, write_stream, self.server.create_initialization_options())
        finally:
            self.running = False
        LOGGER.info("stdio closed", extra={"adapter": self.adapter.namespace})

    def swap(self, adapter: McpAdapter, invoker: Invoker) -> None:
        """The session stays open; the next request runs the reloaded adapter's handler."""
        from ...exposes.mcp.server import McpService, register_handlers

        self.slot.service = McpService(adapter, invoker)
        register_handlers(self.server, self.slot)  # requests the reloaded file answers that the old one did not
        self.adapter = adapter
