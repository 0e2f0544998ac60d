"""JSON on the hot path: orjson when it is installed, the standard library otherwise.

Same results either way for what the runtime reads and writes: whatever orjson refuses
(NaN/Infinity literals, keys that are not strings) falls back to `json`, so the answer
never depends on which one is present. orjson reads integers beyond 64 bits as floats
without a word, so a document with a run of 19+ digits is read by `json`, which keeps
every integer exact. Nesting is bounded (orjson's 1024 levels, `json`'s recursion
limit); too deep is a ValueError like any other bad JSON. Output is compact UTF-8.
`NAFTIKO_ORJSON=0` forces the standard library (to measure what orjson buys).
"""

from __future__ import annotations

import json
import math
import os
from types import ModuleType
from typing import Any

_orjson: ModuleType | None
try:  # pragma: no cover - exercised by whichever is installed
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None
if os.environ.get("NAFTIKO_ORJSON") == "0":  # pragma: no cover - for measuring the fallback
    _orjson = None

HAVE_ORJSON = _orjson is not None
_OPTIONS = _orjson.OPT_NON_STR_KEYS if _orjson is not None else 0
# 19 digits in a row may be an integer beyond 64 bits (also found inside strings: then `json` just reads it).
# Found by mapping every ASCII digit to `0` and every other byte to `.` and looking for 19 `0`s: a tenth of
# what the regular expression `[0-9]{19}` takes over a 1 KB body (it tries a match at every position).
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E for b in range(256))
_LONG_RUN = b"0" * 19


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _long_digits(data: bytes | bytearray | str) -> bool:
    if isinstance(data, str):  # digits are ASCII: in UTF-8 no other character has a byte that is one
        data = data.encode("utf-8", "surrogatepass")
    return _LONG_RUN in data.translate(_DIGITS)


def loads(data: bytes | bytearray | str, *, strict: bool = False) -> Any:
    """Parse JSON; raises ValueError (as `json.loads` does) when it is not JSON or nests too deep.

    `strict` (what callers send): NaN, Infinity and numbers that overflow a double are refused
    too, so nothing that is not JSON is ever passed on in a body labelled JSON.
    """
    if _orjson is not None and not _long_digits(data):
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # let `json` decide (it accepts NaN/Infinity unless strict) and word the error
    try:
        if strict:
            return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite)
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


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
