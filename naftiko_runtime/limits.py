"""Limits a sidecar keeps so that one busy upstream cannot take the process down.

- The request body size is enforced by each adapter (`client_max_size` for REST, the MCP
  guard for MCP): 413 with a JSON body.
- Concurrent upstream calls are counted per consumes namespace (per upstream, as the pool
  keys its sessions). A call over the limit is not queued: it fails at once with 503
  `upstream_busy` and a `Retry-After`, which REST sends as a header and MCP as a field
  (`invoke.transport.LimitTransport`, composed in `naftiko_runtime.stack`).
- Each listening port bounds its connections (`ConnectionLimits`): the size of a request's
  header section (431 above it), how long the headers and each pause in a body may take,
  how long an idle keep-alive connection stays open, and how many connections are open at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import RETRY_AFTER_SECONDS, Overloaded

__all__ = ["RETRY_AFTER_SECONDS", "ConnectionLimits", "Overloaded", "parse_size"]

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_MAX_CONCURRENCY = 256
DEFAULT_MAX_HEADER_SIZE = 16 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client connection may hold of a listening port (0 for a count: no limit)."""

    max_header_size: int = DEFAULT_MAX_HEADER_SIZE  # request line plus header fields, in bytes
    header_timeout: float = 10.0  # from a connection's start, or a request's first byte, to its last header
    body_timeout: float = 30.0  # longest pause while a request body is being received
    keepalive_timeout: float = 5.0  # idle time between requests on one connection
    max_connections: int = 1024  # open connections per port; more are answered 503 and closed
    reuse_port: bool = False  # SO_REUSEPORT: the workers of `--workers N` share each port


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
