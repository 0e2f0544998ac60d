"""Over stdio, a line that is not a JSON-RPC 2.0 message gets the error HTTP gives it.

The SDK's stdio transport hands such a line to the server as an exception, and the server
answers nothing: a client waits forever. Here it is answered at once with a null id, as the
HTTP transport does: -32700 when the line is not JSON, -32600 (Invalid Request) otherwise,
e.g. when `jsonrpc` is not "2.0".
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


def error_for(exc: Exception) -> types.JSONRPCError:
    """The JSON-RPC error a line that failed to parse or validate deserves."""
    errors = exc.errors() if isinstance(exc, ValidationError) else []
    if any(e.get("type") == "json_invalid" for e in errors):
        code, message = PARSE_ERROR, "Parse error: the line is not JSON"
    else:
        given = next((e.get("input") for e in errors if isinstance(e.get("input"), dict)), None)
        if isinstance(given, dict) and given.get("jsonrpc") != "2.0":
            code, message = INVALID_REQUEST, 'Invalid Request: \'jsonrpc\' must be "2.0"'
        else:
            code, message = INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 request, notification or response"
    return types.JSONRPCError(jsonrpc="2.0", id=None, error=types.ErrorData(code=code, message=message))


async def answer_invalid(source: Any, sink: Any, write_stream: Any) -> None:
    """Forward each message from `source` to `sink`; answer each parse failure on `write_stream` instead."""
    async with sink:
        async for item in source:
            if isinstance(item, Exception):
                await write_stream.send(SessionMessage(error_for(item)))
            else:
                await sink.send(item)


def guarded(task_group: anyio.abc.TaskGroup, read_stream: Any, write_stream: Any) -> Any:
    """The stream the server reads: `read_stream` without its parse failures (answered on `write_stream`)."""
    sink, source = anyio.create_memory_object_stream[Any](0)
    task_group.start_soon(answer_invalid, read_stream, sink, write_stream)
    return source
