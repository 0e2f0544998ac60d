"""Limits a sidecar keeps so that one busy upstream cannot take the process down.

- The request body size is enforced by each adapter (`client_max_size` for REST, the MCP
  guard for MCP): 413 with a JSON body.
- Concurrent upstream calls are counted per consumes namespace (per upstream, as the pool
  keys its sessions). A call over the limit is not queued: it fails at once with 503
  `upstream_busy` and a `Retry-After`, which REST sends as a header and MCP as a field.
- Each listening port bounds its connections (`ConnectionLimits`): the size of a request's
  header section (431 above it), how long the headers and each pause in a body may take,
  how long an idle keep-alive connection stays open, and how many connections are open at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .invoke.client import UpstreamPool
from .invoke.errors import UpstreamError

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_MAX_CONCURRENCY = 256
RETRY_AFTER_SECONDS = 1
DEFAULT_MAX_HEADER_SIZE = 16 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client connection may hold of a listening port (0 for a count: no limit)."""

    max_header_size: int = DEFAULT_MAX_HEADER_SIZE  # request line plus header fields, in bytes
    header_timeout: float = 10.0  # from a connection's start, or a request's first byte, to its last header
    body_timeout: float = 30.0  # longest pause while a request body is being received
    keepalive_timeout: float = 5.0  # idle time between requests on one connection
    max_connections: int = 1024  # open connections per port; more are answered 503 and closed


class Overloaded(UpstreamError):
    """Too many calls already in flight to this namespace: 503 with Retry-After."""

    def __init__(self, namespace: str, limit: int, upstream: str | None) -> None:
        super().__init__(
            503, "upstream_busy",
            f"{limit} call(s) to '{namespace}' are already in flight (the limit, --max-concurrency); retry later",
            upstream,
        )
        self.retry_after = RETRY_AFTER_SECONDS


def limit_concurrency(pool: UpstreamPool, limit: int) -> dict[str, int]:
    """Wrap `pool.send` so that at most `limit` calls per namespace are in flight (0: no limit).

    Returns the live in-flight counts by namespace key (for tests and metrics).
    """
    in_flight: dict[str, int] = {}
    if limit <= 0:
        return in_flight
    send = pool.send

    async def limited_send(namespace: str, upstream: str, req: Any, middlewares: list[Any] | None = None) -> Any:
        current = in_flight.get(namespace, 0)
        if current >= limit:
            raise Overloaded(namespace.split("@", 1)[0], limit, upstream)
        in_flight[namespace] = current + 1
        try:
            return await send(namespace, upstream, req, middlewares)
        finally:
            in_flight[namespace] -= 1

    pool.send = limited_send  # type: ignore[method-assign]
    return in_flight


def parse_size(text: str) -> int:
    """`1048576`, `512k`, `10M`, `1g` (powers of 1024) to bytes."""
    value = text.strip().lower().removesuffix("b").removesuffix("i")
    factor = 1
    for suffix, mult in (("k", 1024), ("m", 1024**2), ("g", 1024**3)):
        if value.endswith(suffix):
            value, factor = value[:-1], mult
            break
    number = float(value)
    if number < 0:
        raise ValueError("a size cannot be negative")
    return int(number * factor)
