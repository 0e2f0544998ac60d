"""Which model part a place in a capability document belongs to.

The schema check reports a field path; serving needs the smallest part that path lies in
(parameter or hint → operation, tool, route, step → resource → consumes or adapter → file), so that
at the default level a defect disables only that part and the rest of the file is served.
Part names are the ones the normaliser gives (`ctx.part(...)`), so both report the same part.
"""

from __future__ import annotations

from typing import Any

from .diagnostics import LEAF_KINDS, Part, PartKind
from .normalize.values import join_operation_path
from .yaml_source import JsonPath as YPath

__all__ = ["LEAF_KINDS", "enclosing_part"]


def _get(node: Any, key: str | int) -> Any:
    if isinstance(node, dict) and isinstance(key, str):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return None


def _name(node: Any, *keys: str) -> str:
    for key in keys:
        value = _get(node, key)
        if value is not None and not isinstance(value, (dict, list)):
            return str(value)
    return ""


def enclosing_part(data: Any, path: YPath) -> tuple[Part, YPath] | None:
    """The smallest part `path` lies in and that part's own path; None when only the file encloses it."""
    found: tuple[Part, YPath] | None = None

    def enter(kind: PartKind, name: str, at: YPath) -> None:
        nonlocal found
        found = (Part(kind, name, found[0] if found else None), at)

    node: Any = data
    i = 0
    keys = list(path)
    if keys[:1] == ["capability"]:
        node, i = _get(data, "capability"), 1
    context = ""  # what kind of list the next index selects
    side = ""  # consumes | exposes
    adapter_type = ""
    route_path = ""
    aggregate = ""
    while i < len(keys):
        key = keys[i]
        child = _get(node, key)
        at = tuple(keys[: i + 1])
        if isinstance(key, int):
            if context == "binds":
                enter("bind", _name(child, "namespace"), at)
            elif context == "consumes":
                enter("consumes", _name(child, "namespace", "as", "import"), at)
            elif context == "consumed-resources":
                enter("resource", _name(child, "name") or f"resource-{key}", at)
            elif context == "consumed-operations":
                resource = found[0].name if found and found[0].kind == "resource" else ""
                part = Part("operation", f"{resource}.{_name(child, 'name', 'id')}", found[0].within if found else None)
                found = (part, at)
            elif context == "exposes":
                adapter_type = _name(child, "type")
                enter("adapter", _name(child, "namespace"), at)
            elif context == "rest-resources":
                route_path = _name(child, "path")
                enter("resource", route_path, at)
            elif context == "rest-operations":
                method = (_name(child, "method") or "GET").upper()
                own = _get(child, "path")
                site = join_operation_path(route_path, own) if isinstance(own, str) else route_path
                within = found[0].within if found else None  # routes are named within their adapter
                found = (Part("route", f"{method} {site}", within), at)
            elif context in ("tools", "mcp-resources", "prompts", "skills", "steps"):
                kind = {"tools": "tool", "mcp-resources": "resource", "prompts": "prompt", "skills": "skill", "steps": "step"}[context]
                enter(kind, _name(child, "name") or (f"step-{key}" if kind == "step" else ""), at)  # type: ignore[arg-type]
            elif context == "functions":
                enter("function", f"{aggregate}.{_name(child, 'name')}", at)
            elif context == "parameters":
                enter("parameter", _name(child, "name"), at)
            context = ""
        else:
            if context == "hints":
                enter("hint", key, at)
                break
            consumed = side == "consumes"
            context = {
                "binds": "binds",
                "consumes": "consumes" if found is None else "",
                "exposes": "exposes" if found is None else "",
                "operations": "consumed-operations" if consumed else "rest-operations",
                "tools": "tools",
                "prompts": "prompts",
                "skills": "skills",
                "steps": "steps",
                "functions": "functions",
                "inputParameters": "parameters",
                "hints": "hints",
            }.get(key, "")
            if key == "resources":
                context = "consumed-resources" if consumed else ("rest-resources" if adapter_type == "rest" else "mcp-resources")
            if key in ("consumes", "exposes") and found is None:
                side = key
            if key == "functions":
                aggregate = _name(node, "namespace")  # an aggregate's namespace names its functions
        node = child
        i += 1
    return found

