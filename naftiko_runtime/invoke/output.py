"""Shape an upstream answer with an action's outputParameters.

Three alpha2 modes share one tree walk: mapped outputs (JSONPath `mapping`), mock
outputs (`value` templates over the inputs) and orchestrated outputs (named fields
filled by step `mappings`). Where the reference engine answers `{}` (an object with a
`mapping` but no `properties`), the mapped value passes through unchanged.

A converted XML answer has lost its root element (as in the reference); a mapping that
names it anyway (`$.root.user` over `<root><user>…`) reads below it rather than nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..capability.model import Mapping as StepMapping
from ..capability.model import Output
from ..expressions.jsonpaths import JsonPath
from .formats import XmlDocument

NOTHING: Any = object()


def _coerce(kind: str, value: Any) -> Any:
    """Mock values are text; give them their declared type."""
    if not isinstance(value, str):
        return value
    try:
        if kind == "number":
            return float(value) if any(c in value for c in ".eE") else int(value)
        if kind == "integer":
            return int(value)
        if kind == "boolean":
            return value.strip().lower() == "true"
    except ValueError:
        return value
    return value


def _at(path: JsonPath, node: Any) -> Any:
    if isinstance(node, XmlDocument) and node.root not in node and _names_root(path.source, node.root):
        return path.first({node.root: node})
    return path.first(node)


def _names_root(source: str, root: str) -> bool:
    """`$.root…` or `$['root']…`: the path's first step is the element name `root`."""
    text = source.strip()
    return any(text == p or text.startswith((p + ".", p + "[")) for p in (f"$.{root}", f"$['{root}']", f'$["{root}"]'))


def map_node(out: Output, node: Any, ctx: Mapping[str, Any]) -> Any:
    if out.value is not None:
        return _coerce(out.type, out.value.render_value(ctx))
    if out.mapping is None and out.const is not None and out.properties is None:
        return out.const
    if out.type == "object":
        if out.properties is not None:
            return {k: map_node(v, node, ctx) for k, v in out.properties.items()}
        return _at(out.mapping, node) if out.mapping is not None else node
    if out.type == "array":
        items = _at(out.mapping, node) if out.mapping is not None else node
        if items is None:
            return None
        if not isinstance(items, list):
            items = [items]
        if isinstance(out.items, Output):
            return [map_node(out.items, element, ctx) for element in items]
        if isinstance(out.items, list):
            return [_project(element, out.items, ctx) for element in items]
        return items
    if out.mapping is not None:
        return _at(out.mapping, node)
    return node if out.name is None else None


def _project(element: Any, fields: list[Output], ctx: Mapping[str, Any]) -> Any:
    if not isinstance(element, dict):
        return element
    return {f.name: element.get(f.name) for f in fields if f.name}


def map_outputs(outputs: list[Output], data: Any, ctx: Mapping[str, Any]) -> Any:
    """The mapped answer, or NOTHING when there are no outputs (raw passthrough)."""
    if not outputs:
        return NOTHING
    named = [o for o in outputs if o.name]
    if named and len(named) == len(outputs):
        if isinstance(data, dict) and all(o.value is None for o in named):
            return {o.name: _named(o, data.get(o.name), ctx) for o in named}
        return {o.name: map_node(o, data, ctx) for o in named}
    for out in outputs:
        value = map_node(out, data, ctx)
        if value is not None:
            return value
    return None


def _named(out: Output, value: Any, ctx: Mapping[str, Any]) -> Any:
    """An orchestrated output reads its own field; arrays of named items are projected."""
    if out.type == "array" and isinstance(value, list) and isinstance(out.items, list):
        return [_project(v, out.items, ctx) for v in value]
    return value


def apply_mappings(mappings: list[StepMapping], steps: Mapping[str, Any]) -> dict[str, Any]:
    """Build an object from `targetName` dot paths and JSONPaths over step results."""
    result: dict[str, Any] = {}
    for mapping in mappings:
        value = mapping.value.first(steps)
        node = result
        *parents, leaf = mapping.target.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return result
