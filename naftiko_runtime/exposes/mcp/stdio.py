"""MCP over stdin/stdout, for desktop agents that launch `naftiko run --stdio FILE`.

The SDK's `stdio_server` points fd 1 at stderr while it serves, so only protocol
messages reach stdout even if something prints; our logs already go to stderr.
Returns when the client closes stdin.
"""

from __future__ import annotations

from mcp.server.stdio import stdio_server

from ...capability.model import McpAdapter
from ...invoke.invoker import Invoker
from ...logs import LOGGER
from .server import build_server


async def serve_mcp_stdio(adapter: McpAdapter, invoker: Invoker) -> None:
    server = build_server(adapter, invoker)
    LOGGER.info("serving MCP over stdio", extra={"adapter": adapter.namespace})
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
    LOGGER.info("stdio closed", extra={"adapter": adapter.namespace})
