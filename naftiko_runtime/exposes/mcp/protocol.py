"""The MCP port's HTTP/1.1 protocol: uvicorn's httptools protocol with the connection limits.

httptools buffers a header of any size and uvicorn has no header-read or body-read
timeout and no cap on open connections, so this subclass, handed to uvicorn as its
`http` protocol, adds them (see `ConnectionLimits`):

- the request line and header fields together may not exceed `max_header_size`: counted
  on the raw bytes while the header section is incomplete (so memory stays bounded) and
  exactly once it is complete; over it, 431 and the connection closes;
- the header section must be complete within `header_timeout` of the connection's start
  or of the request's first byte (408, then close); a body may pause at most
  `body_timeout` between two reads (the connection closes; the app sees a disconnect);
- at most `max_connections` connections are open; one more is answered 503 and closed.

Idle keep-alive connections are closed by uvicorn itself (`timeout_keep_alive`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from ...limits import ConnectionLimits


class _Refused(Exception):
    """Raised from a parser callback after the connection was answered and closed."""


def _plain_response(status: int, error: str, message: str) -> bytes:
    body = json.dumps({"error": error, "message": message}).encode()
    return b"".join([
        STATUS_LINE[status],
        b"content-type: application/json\r\n",
        b"content-length: ", str(len(body)).encode(), b"\r\n",
        b"connection: close\r\n\r\n",
        body,
    ])


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header size limit, read timeouts and a connection cap."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ConnectionLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self.head_bytes = 0  # raw bytes received while the header section is incomplete
        self.reading_head = True
        self.refused = False
        self.phase: str | None = None  # "head" or "body" while a read deadline runs
        self.deadline: asyncio.TimerHandle | None = None

    # -- connection --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        cap = self.limits.max_connections
        if cap and len(self.connections) >= cap:
            self.transport = transport
            self.refuse(503, "too_many_connections", f"this port already holds {cap} connections (--max-connections); retry later")
            return
        super().connection_made(transport)
        self.arm("head", self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        super().connection_lost(exc)

    def refuse(self, status: int, error: str, message: str) -> None:
        self.refused = True
        self.disarm()
        if not self.transport.is_closing():
            self.transport.write(_plain_response(status, error, message))
            self.transport.close()

    # -- reading -----------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        self._unset_keepalive_if_required()
        if self.reading_head:
            self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # no WebSocket is served here
            return
        except httptools.HttpParserError:
            if not self.refused:
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
            return
        if self.reading_head:
            if self.head_bytes > self.limits.max_header_size:
                self.too_large()
            elif self.head_bytes == 0:
                self.disarm()  # a request ended with this read: uvicorn's keep-alive timer takes over
            elif self.phase != "head":
                self.arm("head", self.limits.header_timeout)
        else:
            self.arm("body", self.limits.body_timeout)  # each read restarts the body's pause

    def too_large(self) -> None:
        self.refuse(
            431, "request_header_fields_too_large",
            f"the request line and headers exceed the {self.limits.max_header_size}-byte limit (--max-header-size)",
        )

    def on_headers_complete(self) -> None:
        self.reading_head = False
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_size:
            self.too_large()
            raise _Refused
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.reading_head = True
        self.head_bytes = 0
        self.disarm()
        super().on_message_complete()

    # -- deadlines ---------------------------------------------------------------------
    def arm(self, phase: str, seconds: float) -> None:
        self.disarm()
        if seconds > 0:
            self.phase = phase
            self.deadline = self.loop.call_later(seconds, self.expired)

    def disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        self.phase = None

    def expired(self) -> None:
        phase, self.deadline, self.phase = self.phase, None, None
        if self.transport is None or self.transport.is_closing():
            return
        if phase == "body" and self.flow is not None and self.flow.read_paused:
            self.arm("body", self.limits.body_timeout)  # the app, not the client, is behind
            return
        if phase == "head" and (self.cycle is None or self.cycle.response_complete):
            self.refuse(408, "request_timeout", f"the request headers took longer than {self.limits.header_timeout} s (--header-timeout)")
            return
        self.logger.info("closing a connection whose request body stalled", extra={"timeout": self.limits.body_timeout})
        self.transport.close()
