"""Request headers every adapter reads the same way: the request id, and one Host only.

REST (aiohttp) and MCP (ASGI) both hand over the raw header bytes, so both apply the
same rule to the same bytes and the log, the response and the upstream see one id.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from urllib.parse import quote_from_bytes

MAX_REQUEST_ID = 200
# Printable ASCII except space; anything else (non-ASCII, controls, space) is percent-encoded.
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))
_COUNTER = itertools.count(1)
_PREFIX = os.urandom(8).hex()


def new_request_id() -> str:
    """A fresh id: 32 hex digits, a random per-process prefix and a counter (no `uuid4` per request).

    The prefix is drawn again in a forked worker (`os.register_at_fork`), so ids stay unique
    across the processes of `--workers N` and across restarts.
    """
    return f"{_PREFIX}{next(_COUNTER):016x}"


def _reseed() -> None:
    global _PREFIX, _COUNTER
    _PREFIX, _COUNTER = os.urandom(8).hex(), itertools.count(1)


os.register_at_fork(after_in_child=_reseed)


def request_id(raw: bytes | None) -> str:
    """The caller's `X-Request-Id` made safe for a header and a log line, else a new id.

    Bytes outside printable ASCII are percent-encoded (so `é` sent as UTF-8 becomes `%C3%A9`);
    an id that would be longer than MAX_REQUEST_ID characters is replaced by a new one.
    """
    if raw:
        text = quote_from_bytes(raw, safe=_SAFE)
        if len(text) <= MAX_REQUEST_ID:
            return text
    return new_request_id()


def header_values(raw_headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """Every value of header `name` (lower-case bytes) as it arrived."""
    return [value for key, value in raw_headers if key.lower() == name]


def repeated_host(raw_headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Two `Host` headers: which one a check reads and which one a proxy routes by may differ."""
    return len(header_values(raw_headers, b"host")) > 1
