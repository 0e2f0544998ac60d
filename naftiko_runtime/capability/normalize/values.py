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


#: A caller's value written inside a consumed template the way a `with` reference names it (`{{tools.query}}`).
CALLER_PREFIX = re.compile(r"(\{\{-?\s*)(?:tools|rest|mcp)\.(?=[A-Za-z_])")


def caller_template(ctx: Context, raw: Any, path: YPath, mode: str = "text") -> Template:
    """A consumed template; `{{tools.x}}` reads the caller's value `x` (`consumed-template-caller-prefix`).

    alpha2 fills a consumed template from the call's own names; files that write the exposing side's
    `tools.`/`rest.`/`mcp.` prefix there would otherwise send an empty value.
    """
    text = str(raw)
    plain = CALLER_PREFIX.sub(r"\1", text)
    if plain != text:
        ctx.warn(
            f"template '{text}' names the caller's values with a 'tools.', 'rest.' or 'mcp.' prefix, which a "
            f"consumed template does not have; the runtime reads them by their own names ('{plain}')",
            path,
            "consumed-template-caller-prefix",
        )
    return template(ctx, plain, path, mode)


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


#: A path segment that names an API version: `v1`, `v2beta1`, `1.5`, `2.52`, `2024-01-01`.
VERSION_SEGMENT = re.compile(r"v\d+[\w.]*|\d+(?:\.\d+)*|\d{4}-\d{2}-\d{2}", re.IGNORECASE)


def repeated_base_path(base_uri: str, path: str) -> str | None:
    """The base URI's own path when `path` starts by repeating it and it names an API version, else None.

    `https://api.netlify.com/api/v1` with `/api/v1/sites` would send `/api/v1/api/v1/sites`: an API version
    is never written twice in one URL, so the repeat is the file's slip. A base path without a version
    (`…/eligibility` with `/eligibility`) may be meant twice, and is left alone.
    """
    base_path = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*", "", base_uri) if "://" in base_uri else ""
    base_path = base_path.split("?")[0].split("#")[0].rstrip("/")
    if not base_path or not any(VERSION_SEGMENT.fullmatch(seg) for seg in base_path.split("/")):
        return None
    return base_path if path == base_path or path.startswith(base_path + "/") else None


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
