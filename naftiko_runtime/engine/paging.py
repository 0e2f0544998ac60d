"""Humanitec-style paging: ``per_page`` + an opaque ``page`` token, ``Link: <…>; rel="next"``.

Tokens are base64 of a small JSON object. Run lists page by key (the run's sequence
number), so runs created while a client pages do not shift or repeat entries; other lists
page by offset. A token the engine did not issue (the description's example ``AAAAAAAAAA==``,
one from the live service) starts from the first page: the description documents no error
for it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from aiohttp import web

from .errors import BadRequest

T = TypeVar("T")
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100


def encode_token(value: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"p": value}).encode()).decode()


def decode_token(token: str) -> int | None:
    """The position a token of ours holds; ``None`` for any other token."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["p"]
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def per_page(request: web.Request, default: int = DEFAULT_PER_PAGE) -> int:
    raw = request.query.get("per_page")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("'per_page' must be an integer between 1 and 100") from None
    if not 1 <= value <= MAX_PER_PAGE:
        raise BadRequest("'per_page' must be an integer between 1 and 100")
    return value


def next_link(request: web.Request, token: str, size: int | None) -> str:
    pairs = [(k, v) for k, v in request.query.items() if k not in ("page", "per_page")]
    pairs.append(("page", token))
    if size is not None:
        pairs.append(("per_page", str(size)))
    url = request.url.with_query(pairs)
    return f'<{url}>; rel="next"'


def page_by_offset(request: web.Request, items: Sequence[T], size: int | None = None,
                   more: bool = False) -> tuple[list[T], dict[str, str]]:
    """Slice ``items`` at the token's offset. ``more`` forces a next link (e.g. a log still growing)."""
    limit = size if size is not None else per_page(request)
    start = (decode_token(request.query["page"]) or 0) if request.query.get("page") else 0
    chunk = list(items[start:start + limit])
    end = start + len(chunk)
    headers: dict[str, str] = {}
    if end < len(items) or more:
        headers["Link"] = next_link(request, encode_token(end), None if size is not None else limit)
    return chunk, headers


def page_by_key(request: web.Request, items: Sequence[T], key: Callable[[T], int]) -> tuple[list[T], dict[str, str]]:
    """Page a list sorted by a strictly decreasing integer key (newest first)."""
    limit = per_page(request)
    token = request.query.get("page")
    rest: Sequence[T] = items
    after = decode_token(token) if token else None
    if after is not None:
        rest = [i for i in items if key(i) < after]
    chunk = list(rest[:limit])
    headers: dict[str, str] = {}
    if len(rest) > limit:
        headers["Link"] = next_link(request, encode_token(key(chunk[-1])), limit)
    return chunk, headers


def parse_link_next(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a Link header (used by tests and clients)."""
    if not header:
        return None
    for part in header.split(","):
        section = part.strip()
        if 'rel="next"' in section and section.startswith("<"):
            return section[1:section.index(">")]
    return None


__all__ = ["decode_token", "encode_token", "page_by_key", "page_by_offset", "parse_link_next", "per_page"]
