"""Identifiers: one internal run id (a UUID) and its ULID spelling for the Inngest API.

Run ids are UUIDv7 (48-bit millisecond timestamp first, then random bits), so the same
128 bits written in Crockford base32 are a real, time-ordered ULID. ``run_ulid()`` and
``uuid_from_ulid()`` convert losslessly; nothing extra is stored. Runs created before this
scheme (UUIDv4) still get a valid 26-character ULID spelling, just without a meaningful time.
"""

from __future__ import annotations

import os
import re
import time
import uuid

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(CROCKFORD)}
_DECODE.update({c.lower(): i for c, i in list(_DECODE.items())})
_DECODE.update({"I": 1, "i": 1, "L": 1, "l": 1, "O": 0, "o": 0})
ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")


def uuid7() -> uuid.UUID:
    """A version-7 UUID: unix milliseconds, version/variant bits, 74 random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64  # version 7, rand_a (12 bits)
    value |= 0b10 << 62 | (rand & ((1 << 62) - 1))  # variant, rand_b (62 bits)
    return uuid.UUID(int=value)


def new_run_id() -> str:
    return str(uuid7())


def ulid_from_int(value: int) -> str:
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def new_ulid() -> str:
    """A fresh ULID (time + randomness), e.g. for Inngest event ids."""
    return ulid_from_int(uuid7().int)


def run_ulid(run_id: str) -> str:
    """The ULID spelling of a run's UUID (26 characters)."""
    return ulid_from_int(uuid.UUID(run_id).int)


def is_ulid(text: str) -> bool:
    return bool(ULID_RE.match(text))


def uuid_from_ulid(text: str) -> str:
    """Inverse of ``run_ulid``; ``ValueError`` when ``text`` is not a ULID."""
    if not is_ulid(text):
        raise ValueError(f"{text!r} is not a ULID")
    value = 0
    for ch in text:
        value = value * 32 + _DECODE[ch]
    return str(uuid.UUID(int=value))


def stable_uuid(*parts: str) -> str:
    """A UUID derived from names (function ids, environment ids)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "naftiko-engine:" + "/".join(parts)))
