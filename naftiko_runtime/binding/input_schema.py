"""The JSON Schema of what a caller passes to an action: declared inputs, else inferred.

Pure functions of an `Action`, shared by the MCP tool list, the REST export (a route's
inferred query inputs) and `naftiko inspect`. Declared inputParameters win. When a file
declares none (every shipped seed), the schema is inferred from what the invoker will
actually read, under the names it reads them by: consumed path placeholders, consumed
inputParameters, and the incoming names that `with` references (`tools.x`, `mcp.x`,
`<namespace>.x`). An agent must be able to call every action from its schema alone.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any

from ..capability.model import (
    Action,
    Call,
    Capability,
    ConsumedParam,
    InputParam,
    Output,
)
from ..capability.supplied import auth_supplies
from ..expressions.paths import PathTemplate

JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
IDEMPOTENT_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
_BIND_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _type_schema(kind: str | None, items: dict[str, Any] | None = None) -> dict[str, Any]:
    if kind not in JSON_TYPES:
        return {}
    schema: dict[str, Any] = {"type": kind}
    if kind == "array":
        schema["items"] = dict(items) if items else {}
    return schema


def _declared(inputs: list[InputParam]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for p in inputs:
        prop = _type_schema(p.type, p.items)
        if p.description:
            prop["description"] = p.description
        if p.pattern and p.type == "string":
            prop["pattern"] = p.pattern
        if p.enum:
            prop["enum"] = list(p.enum)
        if p.example is not None:
            prop["examples"] = [p.example]
        properties[p.name] = prop
        if p.required:
            required.append(p.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False  # an argument the file does not declare would be dropped: say so
    return schema


class _Inferred:
    """Properties collected in order; a name is taken once, compared case-insensitively
    because the invoker matches placeholders and parameters case-insensitively too."""

    def __init__(self) -> None:
        self.properties: dict[str, dict[str, Any]] = {}
        self.required: list[str] = []

    def has(self, name: str) -> bool:
        return any(k.casefold() == name.casefold() for k in self.properties)

    def add(self, name: str, prop: dict[str, Any], required: bool) -> None:
        if not name or self.has(name):
            return
        self.properties[name] = prop
        if required:
            self.required.append(name)

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "properties": self.properties}
        if self.required:
            schema["required"] = self.required
        schema["additionalProperties"] = False
        return schema


def _param_prop(param: ConsumedParam | None, fallback: str | None = None) -> dict[str, Any]:
    if param is None:
        return _type_schema(fallback) if fallback else {}
    prop = _type_schema(param.type or ("object" if param.location == "body" else "string"))
    if param.description:
        prop["description"] = param.description
    return prop


def _find(params: list[ConsumedParam], name: str) -> ConsumedParam | None:
    exact = next((p for p in params if p.name == name), None)
    return exact or next((p for p in params if p.name.casefold() == name.casefold()), None)


def _is_input_name(name: str) -> bool:
    """Template names that a caller supplies, not binds (`env.X`, `HUMANITEC_API_KEY`)."""
    return "." not in name and not _BIND_NAME.match(name)


def _placeholder_prop(param: ConsumedParam | None, name: str, path: str) -> dict[str, Any]:
    prop = _param_prop(param, "string")
    if prop.get("type") not in ("string", "integer", "number"):
        prop["type"] = "string"
    prop.setdefault("description", f"Path parameter '{name}' of {path}.")
    return prop


def _infer_call(call: Call, found: _Inferred, binds: Collection[str] = ()) -> None:
    op = call.operation
    params = [p for p in op.params if p.location != "environment"]
    with_keys = {k.casefold(): (k, v) for k, v in call.with_.items()}
    placeholders = {n.casefold() for n in op.path.names}

    # 1. Path placeholders, in path order: required, under the name the caller gives
    #    (the referenced name when `with` renames one, else the placeholder itself).
    for name in op.path.names:
        key, spec = with_keys.get(name.casefold(), (None, None))
        if spec is None and name in binds:
            continue  # a bind fills it, never a caller
        if spec is None:
            found.add(name, _placeholder_prop(_find(params, name), name, op.path.raw), True)
        elif spec.kind == "ref" and spec.ref:
            found.add(spec.ref, _placeholder_prop(_find(params, key or name), name, op.path.raw), True)
        elif spec.kind == "template" and spec.template is not None:
            for var in spec.template.names:
                if _is_input_name(var):
                    found.add(var, {"type": "string"}, True)

    # 2. The rest of `with`: references take the consumed parameter's type when there is one.
    for key, spec in call.with_.items():
        if key.casefold() in placeholders:
            continue
        target = _find(params, key)
        needed = bool(target and target.required)
        if spec.kind == "ref" and spec.ref:
            if target is not None:
                prop = _param_prop(target)
            else:
                prop = {"type": "object"} if "body" in (key, spec.ref) else {}
            found.add(spec.ref, prop, needed)
        elif spec.kind == "template" and spec.template is not None:
            for var in spec.template.names:
                if _is_input_name(var):
                    found.add(var, {"type": "string"}, needed)
        elif spec.kind == "tree":  # a structured value: its references are optional inputs (absent ones send null)
            for leaf in spec.leaves():
                if leaf.kind == "ref" and leaf.ref:
                    found.add(leaf.ref, {}, False)

    # 3. Consumed inputParameters that neither `with` nor a placeholder nor the API's authentication fills.
    auth = op.api.auth if op.api else None
    for p in params:
        if p.name.casefold() in with_keys or p.name.casefold() in placeholders or auth_supplies(auth, p):
            continue
        if p.value is not None:
            for var in p.value.names:
                if _is_input_name(var):
                    found.add(var, {"type": "string"}, p.required)
            continue
        found.add(p.name, _param_prop(p), p.required)

    # 4. Smithy-style names after `#` in the path (`/tags#resourceARN&tagKeys`): optional query values.
    for name in op.path.fragment_names:
        found.add(name, {"type": "string", "description": f"Query parameter '{name}' of {op.path.raw}."}, False)


def _base_placeholders(call: Call, found: _Inferred, binds: Collection[str] = ()) -> None:
    """Placeholders of the base URI that only the caller can fill (`/stores/{store_hash}/v2`; not binds)."""
    api = call.operation.api
    if api is None:
        return
    filled = {n.casefold() for n in [*api.bind_names(), *binds]}
    for name in PathTemplate.parse(api.base_uri).names:
        if _is_input_name(name) and name.casefold() not in filled:
            found.add(name, {"type": "string", "description": f"Placeholder '{name}' of the base URI {api.base_uri}."}, True)


def _alike(name: str) -> str:
    return "".join(c for c in name.casefold() if c not in "-_.")


def _with_needed(schema: dict[str, Any], calls: list[Call], binds: Collection[str]) -> dict[str, Any]:
    """Declared inputs, plus the arguments the calls cannot go without that the file forgot to declare
    (consumed path and base-URI placeholders): required strings, described (`naftiko validate` warns)."""
    needed = _Inferred()
    for call in calls:
        _infer_call(call, needed, binds)
        _base_placeholders(call, needed, binds)
    properties = schema["properties"]
    declared = {_alike(k) for k in properties}
    required = list(schema.get("required", []))
    for name in needed.required:
        if _alike(name) in declared:
            continue
        prop = dict(needed.properties[name])
        prop["type"] = prop.get("type") if prop.get("type") in ("string", "integer", "number") else "string"
        properties[name] = prop
        required.append(name)
    if required:
        schema["required"] = required
    return schema


def _mock_names(outputs: list[Output]) -> Iterator[str]:
    for out in outputs:
        if out.value is not None:
            yield from (n for n in out.value.names if _is_input_name(n))
        if out.properties:
            yield from _mock_names(list(out.properties.values()))
        if isinstance(out.items, Output):
            yield from _mock_names([out.items])
        elif isinstance(out.items, list):
            yield from _mock_names(out.items)


def bind_keys(capability: Capability) -> frozenset[str]:
    """The names binds fill: a placeholder of that name is never asked of a caller."""
    return frozenset(key for bind in capability.binds for key in bind.keys)


def input_schema(action: Action, binds: Collection[str] = ()) -> dict[str, Any]:
    """The JSON Schema of a tool's arguments (always `type: object`); `binds`: see `bind_keys`."""
    calls = [action.call] if action.call is not None else [s.call for s in action.steps if s.call is not None]
    if action.inputs is not None:
        return _with_needed(_declared(action.inputs), calls, binds)
    found = _Inferred()
    for call in calls:
        _infer_call(call, found, binds)
        _base_placeholders(call, found, binds)
    for step in action.steps:
        for spec in step.with_.values():
            if spec.kind == "ref" and spec.ref:
                found.add(spec.ref, {}, False)
    if action.is_mock:
        for name in _mock_names(action.outputs):
            found.add(name, {"type": "string"}, False)
    return found.schema()
