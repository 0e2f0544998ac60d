"""Building incoming calls the way the adapters do, and finding actions in a loaded file."""

from __future__ import annotations

from typing import Any

from multidict import CIMultiDict

from naftiko_runtime.binding.incoming import Incoming
from naftiko_runtime.capability.model import Action, Capability, McpAdapter, RestAdapter

# Header names every aiohttp client request carries; what is left is what the runtime chose to send.
CLIENT_DEFAULT_HEADERS = {"host", "accept", "accept-encoding", "user-agent", "content-length"}


def rest_action(cap: Capability, method: str, path: str) -> Action:
    for adapter in cap.adapters:
        if isinstance(adapter, RestAdapter):
            for resource in adapter.resources:
                for op in resource.operations:
                    if op.method == method and resource.path.raw == path:
                        return op.action
    raise LookupError(f"no REST operation {method} {path}")


def tool(cap: Capability, name: str) -> Action:
    for adapter in cap.adapters:
        if isinstance(adapter, McpAdapter):
            for t in adapter.tools:
                if t.name == name:
                    return t
    raise LookupError(f"no MCP tool {name}")


def all_actions(cap: Capability) -> list[tuple[str, Action]]:
    """Every exposed operation and tool, as (`REST METHOD /path` | `MCP name`, action)."""
    out = []
    for adapter in cap.adapters:
        if isinstance(adapter, RestAdapter):
            for resource in adapter.resources:
                for op in resource.operations:
                    out.append((f"REST {op.method} {resource.path.raw}", op.action))
        elif isinstance(adapter, McpAdapter):
            out.extend((f"MCP {t.name}", t) for t in adapter.tools)
    return out


def rest_incoming(
    path: dict[str, Any] | None = None,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Incoming:
    """An Incoming as the REST handler builds it: query values, then path variables, then `body`."""
    query = query or []
    values: dict[str, Any] = {}
    for key, value in query:
        values.setdefault(key, value)
    values.update(path or {})
    if body is not None:
        values["body"] = body
    return Incoming(values=values, body=body, headers=CIMultiDict(headers or {}), query=query, origin="rest", forward_query=True)


def mcp_incoming(arguments: dict[str, Any]) -> Incoming:
    """An Incoming as the MCP adapter builds it: the tool arguments are the values."""
    return Incoming(values=dict(arguments), origin="mcp")


def sent_headers(recorded: Any) -> dict[str, str]:
    """The headers the runtime chose, lower-cased, without the client's defaults."""
    return {k.lower(): v for k, v in recorded.headers.items() if k.lower() not in CLIENT_DEFAULT_HEADERS}
