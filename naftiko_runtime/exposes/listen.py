"""Listening for the aiohttp ports (REST, skill, control, metrics) within `ConnectionLimits`.

aiohttp bounds the request line and each header field (`max_line_size`,
`max_field_size`) and closes a connection that has no complete request within its
keep-alive timeout (also counted from the connection's start), but it has no cap on
open connections. `CappedSite` listens through `ConnectionCap`, a protocol factory that
counts the connections it made and answers one over the cap with 503 and a close.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..limits import ConnectionLimits


def runner_settings(limits: ConnectionLimits) -> dict[str, Any]:
    """aiohttp server keywords for these limits.

    aiohttp's keep-alive timer also runs from a connection's start and closes it when no
    complete request has arrived, so it bounds slow headers too: the shorter of the two
    timeouts applies to both.
    """
    return {
        "max_line_size": limits.max_header_size,
        "max_field_size": limits.max_header_size,
        "keepalive_timeout": min(limits.keepalive_timeout, limits.header_timeout),
    }


def _refusal(limit: int) -> bytes:
    body = json.dumps({"error": "too_many_connections",
                       "message": f"this port already holds {limit} connections (--max-connections); retry later"}).encode()
    return (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)


class _Refuse(asyncio.Protocol):
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_refusal(self.limit))
        transport.close()


class _Counted(asyncio.Protocol):
    """Passes every event to the server's own protocol; tells the cap when the connection ends."""

    __slots__ = ("cap", "inner")

    def __init__(self, inner: asyncio.Protocol, cap: ConnectionCap) -> None:
        self.inner = inner
        self.cap = cap

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.cap.open -= 1
        self.inner.connection_lost(exc)


class ConnectionCap:
    """A protocol factory holding at most `limit` connections open (0: no limit)."""

    def __init__(self, factory: Callable[[], asyncio.Protocol], limit: int) -> None:
        self.factory = factory
        self.limit = limit
        self.open = 0

    def __call__(self) -> asyncio.Protocol:
        if not self.limit:
            return self.factory()
        if self.open >= self.limit:
            return _Refuse(self.limit)
        self.open += 1
        return _Counted(self.factory(), self)


class CappedSite(web.BaseSite):
    """A TCP site whose connections go through `ConnectionCap`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, max_connections: int, *, reuse_port: bool = False) -> None:
        super().__init__(runner)
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.reuse_port = reuse_port

    @property
    def name(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def bound_port(self) -> int:
        sockets = getattr(self._server, "sockets", None)  # asyncio's or uvloop's server (not an asyncio.Server)
        return sockets[0].getsockname()[1] if sockets else self.port

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            ConnectionCap(server, self.max_connections), self.host, self.port,
            backlog=self._backlog, reuse_address=True, reuse_port=self.reuse_port or None,
        )
