"""Checks every operation shares: ids, If-Match against ETags, request digests for idempotency."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .errors import BadRequest

ORG_APP_ID = re.compile(r"^[a-z0-9](?:-?[a-z0-9]+)+$")


def check_id(kind: str, value: str) -> str:
    if not ORG_APP_ID.match(value) or len(value) > 50:
        raise BadRequest(f"{kind} {value!r} is not a valid id (lowercase letters, digits and single dashes, max 50)")
    return value


def body_hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def etag_matches(if_match: str | None, etag: str) -> bool:
    if not if_match:
        return True
    for candidate in if_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/").strip('"') == etag:
            return True
    return False
