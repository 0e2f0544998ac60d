"""One incoming call, whatever adapter it arrived on, and the error for a bad one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

__all__ = ["Incoming", "InputError"]


@dataclass
class Incoming:
    """The values of one call: REST path variables, query and body, or MCP tool arguments.

    `values` holds every named value a `with` reference or placeholder may read;
    `path` the values routed from the request path (REST), which always win over a
    value of the same name (any case) from elsewhere when a path placeholder is filled;
    `query` keeps the raw query string pairs so undeclared ones can be forwarded.
    """

    values: dict[str, Any] = field(default_factory=dict)
    path: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    raw_body: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    cookies: Mapping[str, str] = field(default_factory=dict)
    origin: str = "rest"
    request_id: str | None = None
    forward_query: bool = False  # forward undeclared query parameters (an operation that declares no inputs)
