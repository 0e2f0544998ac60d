"""A short way for the commonest MCP request: one stateless `tools/call` POST.

In stateless mode the SDK builds a transport, a JSON-RPC dispatcher, a server runner and
their task groups and memory streams for every POST, then tears them down; the
benchmark (`python -m naftiko_runtime.bench`) shows that costing several times the
tool call itself. This ASGI wrapper answers a plain `tools/call` directly from
`McpService.call_tool` with the same JSON-RPC answer the SDK gives (the same result
model, serialised the same way) and hands *everything else* to the SDK untouched:
other methods, batches, notifications, `_meta`, sessions, the 2026 per-request
envelope, unusual headers or bodies. When in doubt, the SDK answers.
"""

from __future__ import annotations

import os
from typing import Any

from mcp.server.streamable_http_manager import DEFAULT_NEGOTIATED_VERSION
from mcp.shared.exceptions import MCPError
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp_types import INTERNAL_ERROR, ErrorData
from mcp_types import methods as sdk_methods
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ... import jsonfast
from ...logs import LOGGER
from .server import McpService

_JSON = b"application/json"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _accepts_json(accept: bytes) -> bool:
    types = [t.split(b";")[0].strip().lower() for t in accept.split(b",")]
    return any(t in (b"application/json", b"application/*", b"*/*") for t in types)


def is_json(content_type: bytes | None) -> bool:
    if not content_type:
        return False
    return any(part.strip() == _JSON for part in content_type.split(b";")[0].split(b","))


def plain_tool_call(body: bytes) -> tuple[Any, str, dict[str, Any] | None] | None:
    """(id, tool name, arguments) of a plain single `tools/call`, else None."""
    try:
        message = jsonfast.loads(body)
    except ValueError:  # jsonfast words too-deep nesting as a ValueError too
        return None
    if type(message) is not dict or message.keys() != {"jsonrpc", "id", "method", "params"}:
        return None
    if message["jsonrpc"] != "2.0" or message["method"] != "tools/call":
        return None
    request_id, params = message["id"], message["params"]
    if type(request_id) not in (int, str) or type(params) is not dict or not params.keys() <= {"name", "arguments"}:
        return None
    name, arguments = params.get("name"), params.get("arguments")
    if type(name) is not str or not (arguments is None or type(arguments) is dict):
        return None
    return request_id, name, arguments


class ToolCallFastPath:
    """ASGI app in front of the SDK's streamable HTTP app (stateless, JSON responses)."""

    def __init__(self, app: ASGIApp, service: McpService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not self._plain_headers(scope):
            await self.app(scope, receive, send)
            return
        body, messages = await _read(receive)
        call = plain_tool_call(body) if body is not None else None
        if call is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        request_id, name, arguments = call
        version = (_header(scope, b"mcp-protocol-version") or b"").decode("latin-1") or DEFAULT_NEGOTIATED_VERSION
        try:
            result = await self.service.call_tool(name, arguments)
            dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
            try:  # the SDK's own per-version wire form of the result
                dumped = sdk_methods.serialize_server_result("tools/call", version, dumped)
            except ValidationError:
                LOGGER.exception("mcp: tool call returned an invalid result", extra={"tool": name})
                raise MCPError(code=INTERNAL_ERROR, message="Handler returned an invalid result") from None
            answer: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "result": dumped}
        except Exception as exc:
            error = handler_exception_to_error_data(exc)
            if error is None:
                LOGGER.exception("mcp: tool call failed", extra={"tool": name})
                error = ErrorData(code=0, message=str(exc))  # the SDK's legacy-path catch-all
            answer = {"jsonrpc": "2.0", "id": request_id, "error": error.model_dump(by_alias=True, mode="json", exclude_none=True)}
        payload = jsonfast.dumps_bytes(answer)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", _JSON), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    @staticmethod
    def _plain_headers(scope: Scope) -> bool:
        version = _header(scope, b"mcp-protocol-version")
        if version is not None and version.decode("latin-1") not in HANDSHAKE_PROTOCOL_VERSIONS:
            return False
        if _header(scope, b"mcp-session-id") is not None or _header(scope, b"last-event-id") is not None:
            return False
        return is_json(_header(scope, b"content-type")) and _accepts_json(_header(scope, b"accept") or b"")


async def _read(receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The whole body, and the messages read (to replay them when the SDK answers instead)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), messages


def _replay(messages: list[Message], then: Receive) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0) if pending else await then()

    return receive


def with_fast_path(app: ASGIApp, manager: Any, service: McpService) -> ASGIApp:
    """`app` behind the fast path answering with `service` when the manager is stateless with
    JSON responses (`NAFTIKO_MCP_FASTPATH=0` turns it off)."""
    if (getattr(manager.app, "cache_hints", None) or {}).get("tools/call") is not None:
        return app
    if not manager.stateless or not manager.json_response or os.environ.get("NAFTIKO_MCP_FASTPATH") == "0":
        return app
    return ToolCallFastPath(app, service)
