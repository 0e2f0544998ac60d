"""Declared exposed inputParameters: extract them from a request and check type and pattern."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .. import jsonfast
from ..capability.model import InputParam
from ..expressions.jsonpaths import JsonPath
from .incoming import InputError


@lru_cache(maxsize=1024)
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


def coerce(param: InputParam, raw: Any) -> Any:
    """Turn a string from a path, query or header into the declared type, or raise InputError."""
    kind = param.type
    where = f"{param.location} parameter" if param.location else "argument"
    expected = f"{where} '{param.name}' must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    if isinstance(raw, str) and kind != "string":
        text = raw.strip()
        try:
            if kind == "integer":
                return int(text)
            if kind == "number":
                number = float(text) if any(c in text for c in ".eE") else int(text)
                if isinstance(number, float) and not math.isfinite(number):
                    raise ValueError  # 1e999 is no number JSON can carry
                return number
            if kind == "boolean":
                if text.lower() in ("true", "1"):
                    return True
                if text.lower() in ("false", "0"):
                    return False
                raise ValueError
            if kind in ("array", "object"):
                value = jsonfast.loads(text, strict=True) if text[:1] in "[{" else text.split(",")
                if kind == "object" and not isinstance(value, dict):
                    raise ValueError
                return value
        except ValueError:
            raise InputError(f"{expected}, got '{raw}'", param.name) from None
    checks = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "string": lambda v: isinstance(v, str),
    }
    check = checks.get(kind)
    if check is not None and not check(raw):
        if kind == "string" and isinstance(raw, (int, float)) and not isinstance(raw, bool):
            raw = str(raw)
        else:
            raise InputError(f"{expected}, got {json.dumps(raw)}", param.name)
    regex = param.regex or (_pattern(param.pattern) if param.pattern else None)
    if regex is not None and isinstance(raw, str) and not regex.search(raw):
        raise InputError(f"{where} '{param.name}' must match /{param.pattern}/, got '{raw}'", param.name)
    return raw


def extract(
    params: list[InputParam],
    *,
    path: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
    body: Any,
) -> dict[str, Any]:
    """The declared inputs of one REST request, typed and checked; raises InputError."""
    values: dict[str, Any] = {}
    for p in params:
        source: Mapping[str, Any] = {
            "path": path, "query": query, "header": headers, "cookie": cookies,
        }.get(p.location or "", {})
        raw: Any = None
        if isinstance(p.value, JsonPath):
            raw = p.value.first(body) if body is not None else None
        elif isinstance(p.value, str):
            raw = p.value
        elif p.location == "body":
            raw = body.get(p.name) if isinstance(body, dict) else None
        elif p.location == "header":
            raw = headers.get(p.name)
        else:
            raw = source.get(p.name)
            if raw is None and p.location == "path":
                raw = next((v for k, v in path.items() if k.casefold() == p.name.casefold()), None)
        if raw is None:
            if p.required:
                raise InputError(f"missing required {p.location or 'input'} parameter '{p.name}'", p.name)
            continue
        values[p.name] = coerce(p, raw)
    return values
