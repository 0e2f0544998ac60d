"""Reading request bodies: text must be UTF-8, so a bad body is the client's 400, never a 500."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..errors import BadRequest


async def body_text(request: web.Request) -> str:
    """The body as text, decoded strictly (UTF-8 unless the request names another charset)."""
    raw = await request.read()
    try:
        return raw.decode(request.charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise BadRequest("the request body is not valid UTF-8 text") from None


async def json_body(request: web.Request, *, required: bool = True) -> Any:
    """The body as JSON (``None`` when empty and not ``required``); any bad body is a 400."""
    text = await body_text(request)
    if not text.strip():
        if required:
            raise BadRequest("the request body is empty")
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from exc
