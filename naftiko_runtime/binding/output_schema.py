"""The JSON Schema of mapped outputs: one converter for every exposed surface.

OpenAPI export (`exposes/rest/openapi.py`) and MCP tool output schemas (`exposes/mcp/schema.py`)
describe the same mapped answer, so they use the same rules: a mapped value may be missing
(its type admits `null`), an object without `properties` passes the upstream answer through
(its shape is unknown: `None` here), an array of named fields is an array of objects.
"""

from __future__ import annotations

from typing import Any

from ..capability.model import Output

JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object")


def output_node(out: Output) -> dict[str, Any] | None:
    """Schema of one mapped node; None when its shape is unknown (passthrough)."""
    if out.type == "object":
        if out.properties is None:
            return None
        props = {k: output_node(v) or {} for k, v in out.properties.items()}
        return {"type": ["object", "null"], "properties": props}
    if out.type == "array":
        schema: dict[str, Any] = {"type": ["array", "null"]}
        if isinstance(out.items, Output):
            item = output_node(out.items)
            if item is not None:
                schema["items"] = item
        elif isinstance(out.items, list):
            schema["items"] = {"type": "object", "properties": {f.name: output_node(f) or {} for f in out.items if f.name}}
        return schema
    if out.type in JSON_TYPES:
        return {"type": [out.type, "null"]}
    return {}


def named_outputs(outputs: list[Output]) -> dict[str, Any] | None:
    """The object a set of named outputs maps to; None unless every output has a name."""
    if not outputs or not all(o.name for o in outputs):
        return None
    return {"type": "object", "properties": {o.name: output_node(o) or {} for o in outputs if o.name}}
