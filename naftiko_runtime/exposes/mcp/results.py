"""Tool results: an upstream outcome as MCP content, structured content, next-page hints and errors."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mcp_types as types

from ... import jsonfast
from ...errors import NaftikoError
from ...invoke.invoker import Outcome
from ...invoke.output import NOTHING
from ...logs import SECRETS
from .tools import ToolSpec


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    return jsonfast.dumps(value)


def _structured(value: Any) -> dict[str, Any]:
    """`structuredContent` must be an object: anything else is wrapped as `{"result": ...}`."""
    return value if isinstance(value, dict) else {"result": value}


def _passthrough(outcome: Outcome) -> Any:
    """The upstream body when no outputParameters shaped it: JSON if it parses, else text."""
    if outcome.data is not NOTHING:
        return outcome.data
    if not outcome.raw:
        return None
    text = outcome.raw.decode("utf-8", "replace")
    try:
        return jsonfast.loads(text)
    except ValueError:
        return text


_PAGING = ("page", "cursor", "offset", "after", "per_page", "limit")
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)


def _next_page(spec: ToolSpec, link: str | None) -> dict[str, str] | None:
    """The tool arguments that fetch the next page, from the upstream's `Link: <…>; rel="next"`."""
    found = _NEXT_LINK.search(link or "")
    if found is None:
        return None
    known = spec.input_schema.get("properties", {})
    query = parse_qs(urlsplit(found.group(1)).query)
    following: dict[str, Any] = {}
    for key, values in query.items():
        if key in _PAGING and key in known and values:
            value = values[0]
            integer = known[key].get("type") == "integer" and value.isdigit()
            following[key] = int(value) if integer else value  # as the input schema wants it back
    return following or None


def _empty_result(spec: ToolSpec, outcome: Outcome) -> types.CallToolResult:
    """A 2xx without a body (cancel, delete, dry run) still tells the agent what happened:
    `{"ok": true, "status": 204}` and a sentence, never an empty text and `{"result": null}`.
    Where the tool's outputSchema gives `status` another type, the code is `http_status`."""
    where = f"upstream {outcome.upstream} " if outcome.upstream else "upstream "
    text = f"Done: {where}answered {outcome.status} with no content."
    structured: dict[str, Any] = {"ok": True, "status": outcome.status}
    if spec.output_validator is not None and not spec.output_validator.is_valid(structured):
        structured = {"ok": True, "http_status": outcome.status}  # the output schema's `status` means something else
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)


def error_result(message: str, **detail: Any) -> types.CallToolResult:
    body = {"message": message, **{k: v for k, v in detail.items() if v is not None}}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)],
        structured_content={"error": body},
        is_error=True,
    )


def failure_result(exc: NaftikoError) -> types.CallToolResult:
    """The MCP answer to any failed tool call: an error result carrying status, code and retry hint."""
    return error_result(SECRETS.redact(exc.message), error=exc.error, status=exc.status, upstream=exc.upstream,
                        parameter=exc.parameter, retry_after=exc.retry_after)
