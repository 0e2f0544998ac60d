"""What an MCP client sees of a tool: input schema, annotations, output schema.

Pure functions of an `Action`, so `naftiko inspect` shows exactly what `tools/list`
serves. The input schema is the binding layer's (`binding/input_schema.py`, shared with
the REST export); the annotations and the structured output's schema are MCP's own.
"""

from __future__ import annotations

from typing import Any

from ...binding.input_schema import (
    IDEMPOTENT_METHODS,
    READ_METHODS,
    bind_keys,
    input_schema,
)
from ...binding.output_schema import named_outputs, output_node
from ...capability.model import Action

__all__ = ["annotations", "bind_keys", "input_schema", "output_schema"]


def _methods(action: Action) -> list[str]:
    calls = [action.call] if action.call is not None else [s.call for s in action.steps if s.call is not None]
    return [c.operation.method.upper() for c in calls]


def annotations(action: Action) -> dict[str, Any]:
    """All four MCP hints, explicit: the file's `hints` win field by field, the rest are derived."""
    methods = _methods(action)
    if methods:
        derived = {
            "readOnlyHint": all(m in READ_METHODS for m in methods),
            "destructiveHint": any(m == "DELETE" for m in methods),
            "idempotentHint": all(m in IDEMPOTENT_METHODS for m in methods),
            "openWorldHint": True,
        }
    else:  # a mock (or script-only) tool touches nothing outside the runtime
        derived = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False}
    hints = action.hints
    given = {
        "readOnlyHint": hints.read_only,
        "destructiveHint": hints.destructive,
        "idempotentHint": hints.idempotent,
        "openWorldHint": hints.open_world,
    }
    result: dict[str, Any] = {}
    if action.label:
        result["title"] = action.label
    for key, value in derived.items():
        result[key] = given[key] if given[key] is not None else value
    if result["readOnlyHint"] and hints.destructive is None:
        result["destructiveHint"] = False
    return result


def output_schema(action: Action) -> dict[str, Any] | None:
    """The schema of `structuredContent`, where the outputs say enough to derive one.

    Objects with `properties` (and sets of named outputs) are described as they are;
    arrays and scalars are wrapped as `{"result": ...}`, as the server wraps them. An
    object without properties passes the upstream answer through: no schema.
    """
    outputs = action.outputs
    if not outputs:
        return None
    named = named_outputs(outputs)
    if named is not None:
        return named
    if len(outputs) > 1:  # the first non-null mapping wins: the shape is not known in advance
        return None
    node = output_node(outputs[0])
    if node is None:
        return None
    if outputs[0].type == "object":
        return {"type": "object", "properties": node["properties"]}
    return {"type": "object", "properties": {"result": node}}
