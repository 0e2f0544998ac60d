"""Small readers shared by the normalisers: tolerant accessors and compiled values."""

from __future__ import annotations

import re
from typing import Any

from ...expressions.jsonpaths import JsonPath
from ...expressions.templates import Template
from .. import model as m
from ..yaml_source import JsonPath as YPath
from .context import Context

REFERENCE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def template(ctx: Context, raw: Any, path: YPath, mode: str = "text") -> Template:
    try:
        return Template.compile(str(raw), mode)  # type: ignore[arg-type]
    except Exception as exc:  # jinja syntax errors cannot happen by construction; be safe
        ctx.error(f"invalid template: {exc}", path)
        return Template.compile("")


def jsonpath(ctx: Context, raw: Any, path: YPath) -> JsonPath | None:
    if raw is None:
        return None
    try:
        return JsonPath.compile(str(raw))
    except ValueError as exc:
        ctx.error(str(exc), path)
        return None


def join_operation_path(resource: str, operation: str) -> str:
    """An operation's own path: as is when it starts with the resource path, else appended to it."""
    if operation == resource or operation.startswith(resource.rstrip("/") + "/"):
        return operation
    return resource.rstrip("/") + "/" + operation.lstrip("/") if operation.strip("/") else resource


def merge_params(*groups: list[m.ConsumedParam]) -> list[m.ConsumedParam]:
    merged: dict[tuple[str, str], m.ConsumedParam] = {}
    for group in groups:
        for p in group:
            merged[(p.name, p.location)] = p
    return list(merged.values())


def merge_inputs(shared: list[m.InputParam], own: list[m.InputParam]) -> list[m.InputParam]:
    merged = {(p.name, p.location): p for p in shared}
    merged.update({(p.name, p.location): p for p in own})
    return list(merged.values())


def params_list(raw: Any) -> list[dict[str, Any]]:
    """Parameters as a list, also accepting the map form (`name: {...}`) some files use."""
    if isinstance(raw, dict):
        return [{"name": k, **as_dict(v)} for k, v in raw.items()]
    return [p for p in as_list(raw) if isinstance(p, dict)]


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    return None if value is None else str(value)
