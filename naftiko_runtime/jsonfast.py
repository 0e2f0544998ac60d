"""JSON on the hot path: orjson when it is installed, the standard library otherwise.

Same results either way for what the runtime reads and writes: whatever orjson refuses
(NaN/Infinity literals, integers beyond 64 bits, keys that are not strings) falls back
to `json`, so the answer never depends on which one is present. Output is compact UTF-8.
`NAFTIKO_ORJSON=0` forces the standard library (to measure what orjson buys).
"""

from __future__ import annotations

import json
import os
from typing import Any

try:  # pragma: no cover - exercised by whichever is installed
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None
if os.environ.get("NAFTIKO_ORJSON") == "0":  # pragma: no cover - for measuring the fallback
    _orjson = None

HAVE_ORJSON = _orjson is not None
_OPTIONS = _orjson.OPT_NON_STR_KEYS if _orjson is not None else 0


def loads(data: bytes | bytearray | str) -> Any:
    """Parse JSON; raises ValueError (as `json.loads` does) when it is not JSON."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # let `json` decide (it accepts NaN/Infinity) and word the error
    return json.loads(data)


def dumps_bytes(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value, option=_OPTIONS)
        except (TypeError, _orjson.JSONEncodeError):
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def dumps(value: Any) -> str:
    """Compact JSON text (non-ASCII kept as is)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value, option=_OPTIONS).decode()
        except (TypeError, _orjson.JSONEncodeError):
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
