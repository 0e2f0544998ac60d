"""A tool's specification: its schemas compiled once, the quick check for plain arguments, argument errors."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from jsonschema import Draft202012Validator

from ...binding.input_schema import input_schema
from ...capability.model import Action
from .schema import output_schema, tool_annotations


@dataclass
class ToolSpec:
    """A tool with its schemas computed once at start."""

    action: Action
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    validator: Draft202012Validator
    output_validator: Draft202012Validator | None
    surely_valid: Callable[[Any], bool] = lambda _: False

    @classmethod
    def of(cls, action: Action, binds: Collection[str] = ()) -> ToolSpec:
        schema = input_schema(action, binds)
        out = output_schema(action)
        return cls(action, schema, out, Draft202012Validator(schema), Draft202012Validator(out) if out else None,
                   plain_object_check(schema))

    def as_tool(self) -> types.Tool:
        action = self.action
        return types.Tool(
            name=action.name,
            title=action.label,
            description=action.description,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            annotations=types.ToolAnnotations.model_validate(tool_annotations(action)),
        )


_PLAIN_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) in (int, float),
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def plain_object_check(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """A check, built once per tool, that answers True only for arguments the schema surely accepts.

    It covers the common shape of generated input schemas: an object of properties that each say
    no more than their `type` (arrays with unconstrained items), `required`, `additionalProperties:
    false`. Anything it cannot be sure of answers False, and jsonschema then decides and explains.
    """
    if set(schema) - {"type", "properties", "required", "additionalProperties"} or schema.get("type") != "object":
        return lambda _: False
    closed = schema.get("additionalProperties") is False
    if "additionalProperties" in schema and not closed:
        return lambda _: False
    required = tuple(schema.get("required", ()))
    checks: dict[str, Callable[[Any], bool] | None] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict) or set(prop) - {"type", "description", "items"} or prop.get("items", {}) != {}:
            return lambda _: False
        kind = prop.get("type")
        if kind is None:
            checks[name] = None
        elif kind in _PLAIN_TYPES and (kind == "array" or "items" not in prop):
            checks[name] = _PLAIN_TYPES[kind]
        else:
            return lambda _: False

    def surely_valid(arguments: Any) -> bool:
        if type(arguments) is not dict:
            return False
        for name in required:
            if name not in arguments:
                return False
        for key, value in arguments.items():
            if key not in checks:
                if closed:
                    return False
                continue
            check = checks[key]
            if check is not None and not check(value):
                return False
        return True

    return surely_valid


def argument_errors(spec: ToolSpec, arguments: dict[str, Any]) -> list[str]:
    """Each schema violation as one sentence naming the argument."""
    if spec.surely_valid(arguments):
        return []
    messages: list[str] = []
    for err in sorted(spec.validator.iter_errors(arguments), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in err.absolute_path)
        prefix = f"{where}." if where else ""
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = [r for r in err.validator_value if r not in err.instance]
            messages += [f"missing required argument '{prefix}{m}'" for m in missing]
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = list(err.schema.get("properties", {}))
            extra = [k for k in err.instance if k not in known]
            expected = ", ".join(known) or "none"
            messages += [f"unknown argument '{prefix}{k}' (expected: {expected})" for k in extra]
        else:
            messages.append(f"argument '{where or '(root)'}': {err.message}")
    return list(dict.fromkeys(messages))

