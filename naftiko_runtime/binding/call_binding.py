"""Map one incoming call onto a consumed operation's parameters.

Rules, in order: every incoming value is available by name (path variables, query
parameters, MCP arguments, the JSON body as `body`); `with` then adds or renames
(references take the incoming value and are omitted when it is absent, templates are
rendered, literals pass through); consumed inputParameters read their `value` template
or the value of the same name (exact, then case-insensitive). Binds are visible to
templates but can never be overridden by a caller.

A consumed path placeholder (and a `with` reference) reads a routed path value before
any other value of that name, so a query parameter `?orgId=` can never replace the
`{orgid}` a gateway authorised the request by. A placeholder named like a bind
(`{{K8S_NAMESPACE}}`) takes the bind's value, never a caller's; one no value has by its
exact or case-insensitive name takes the one value whose name differs only in `-`/`_`/`.`
(exposed `{sys-id}`, consumed `{sys_id}`). A parameter declared `in: path` that the path has no
placeholder for cannot be sent and is never demanded.
"""

from __future__ import annotations

import json
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..capability.model import Call, ConsumedOperation, WithValue
from ..capability.supplied import auth_supplies
from ..expressions.templates import is_missing, lookup_ci
from .incoming import Incoming, InputError

IMPLICIT_BODY_METHODS = ("POST", "PUT", "PATCH")
UNSET: Any = object()


@dataclass
class BoundCall:
    """Everything the request builder needs, already resolved to values."""

    operation: ConsumedOperation
    context: ChainMap[str, Any]
    path_values: dict[str, Any] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    body: Any = UNSET


def _first(name: str, *sources: Mapping[str, Any]) -> Any:
    """The value of `name` in the first source that has it (each exact, then case-insensitive)."""
    for source in sources:
        if source:
            found = lookup_ci(source, name)
            if not is_missing(found):
                return found
    return UNSET


def _alike(name: str) -> str:
    return "".join(c for c in name.casefold() if c not in "-_.")


def _outside_path(name: str, location: str, op: ConsumedOperation) -> bool:
    """A parameter declared `in: path` that the path has no placeholder for (`/~/cohorts` with `orgId`):
    it cannot be sent, so it is never demanded."""
    return location == "path" and _alike(name) not in {_alike(n) for n in op.path.names}


def _alike_value(name: str, *sources: Mapping[str, Any]) -> Any:
    """For a path placeholder: the one value whose name differs only in case and `-`/`_`/`.` (exposed `{sys-id}`,
    consumed `{sys_id}`), routed path values first."""
    key = _alike(name)
    for source in sources:
        found = [v for k, v in (source or {}).items() if _alike(k) == key and not is_missing(v)]
        if len(found) == 1:
            return found[0]
    return UNSET


def _with_value(value: WithValue, incoming: dict[str, Any], render_ctx: ChainMap[str, Any], path: Mapping[str, Any]) -> Any:
    if value.kind == "ref":
        return _first(value.ref or "", path, incoming)
    if value.kind == "template" and value.template is not None:
        return value.template.render_value(render_ctx)
    if value.kind == "tree":
        if isinstance(value.tree, dict):
            return {k: _leaf(_with_value(v, incoming, render_ctx, path)) for k, v in value.tree.items()}
        return [_leaf(_with_value(v, incoming, render_ctx, path)) for v in value.tree]
    return value.literal


def _leaf(value: Any) -> Any:
    """A leaf of a structured `with` value whose reference has no value is null, never a sentinel."""
    return None if value is UNSET or is_missing(value) else value


def as_param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def bind_call(
    call: Call,
    incoming: Incoming,
    binds: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> BoundCall:
    """Resolve `call` for `incoming`; raises InputError naming what is missing.

    `env` is the environment captured when the capability was loaded (`in: environment`)."""
    op = call.operation
    values: dict[str, Any] = dict(incoming.values)
    if extra:
        values.update(extra)
    render_ctx: ChainMap[str, Any] = ChainMap(binds, values)
    params: dict[str, Any] = dict(values)
    mapped: dict[str, Any] = {}
    for key, spec in call.with_.items():
        resolved = _with_value(spec, values, render_ctx, incoming.path)
        if resolved is UNSET:
            params.pop(key, None)
        else:
            params[key] = mapped[key] = resolved
    context: ChainMap[str, Any] = ChainMap(binds, params)
    bound = BoundCall(op, context)

    body_parts: dict[str, Any] = {}
    body_params = op.body_params
    sole_body = len(body_params) == 1
    for p in op.params:
        value = p.value.render_value(context) if p.value is not None else None
        if value is None or value == "":
            value = _param_value(p.name, p.location, params, incoming, sole_body, mapped, env or {})
        if value is None:
            if p.required and p.location != "body" and not auth_supplies(op.api.auth if op.api else None, p) and not _outside_path(p.name, p.location, op):
                raise InputError(f"missing required {p.location} parameter '{p.name}' for {op.method} {op.path.raw}", p.name)
            continue
        if p.location == "query":
            items = value if isinstance(value, list) else [value]
            bound.query.extend((p.name, as_param_text(v)) for v in items)
        elif p.location == "header":
            text = as_param_text(value)
            if any(c in text for c in "\r\n\x00"):
                raise InputError(f"header parameter '{p.name}' must not contain line breaks or NUL", p.name)
            bound.headers[p.name] = text
        elif p.location == "cookie":
            bound.cookies[p.name] = as_param_text(value)
        elif p.location == "body":
            body_parts[p.name] = value
        elif p.location == "path":
            bound.path_values[p.name] = value

    for name in op.path.names:
        bind = binds.get(name)
        if isinstance(bind, (str, int)) and not isinstance(bind, bool) and bind != "":
            bound.path_values[name] = bind  # a bind's placeholder (`{{K8S_NAMESPACE}}`): never the caller's
            continue
        if name in bound.path_values:
            continue
        found = _first(name, mapped, incoming.path, params)
        if found is UNSET:
            found = _alike_value(name, incoming.path, params)
        if found is UNSET or found is None or found == "":
            raise InputError(f"missing value for path parameter '{name}' of {op.method} {op.path.raw}", name)
        bound.path_values[name] = found

    if op.body is None:
        if len(body_params) == 1 and body_params[0].name in body_parts:
            bound.body = body_parts[body_params[0].name]
        elif body_parts:
            bound.body = body_parts
        elif body_params and any(p.required for p in body_params):
            names = ", ".join(p.name for p in body_params if p.required)
            raise InputError(f"missing required request body ({names}) for {op.method} {op.path.raw}", names)
        elif not body_params and incoming.origin in ("rest", "cli") and op.method in IMPLICIT_BODY_METHODS and incoming.body is not None:
            bound.body = incoming.body

    if op.path.fragment_names:  # Smithy-style `/tags#resourceARN&tagKeys`: query parameters filled by name
        sent = {k.casefold() for k, _ in bound.query}
        for name in op.path.fragment_names:
            value = _first(name, mapped, params)
            if name.casefold() not in sent and value is not UNSET and value is not None:
                items = value if isinstance(value, list) else [value]
                bound.query.extend((name, as_param_text(v)) for v in items)

    if incoming.forward_query and incoming.query:
        sent = {k for k, _ in bound.query}
        taken, refs = op.taken_names, call.refs
        for key, val in incoming.query:
            if key not in sent and key not in taken and key.casefold() not in sent and key.casefold() not in taken and key not in refs:
                bound.query.append((key, val))
    return bound


def _param_value(
    name: str, location: str, params: dict[str, Any], incoming: Incoming, sole_body: bool, mapped: dict[str, Any],
    env: Mapping[str, str],
) -> Any:
    """A consumed parameter's value by name; the whole incoming body only fills the one body parameter."""
    if location == "environment":
        return env.get(name)
    found = _first(name, mapped, incoming.path, params) if location == "path" else lookup_ci(params, name)
    if location == "path" and found is UNSET:
        found = _alike_value(name, incoming.path, params)
    if found is not UNSET and not is_missing(found):
        return found
    if location == "body" and isinstance(incoming.body, dict) and name in incoming.body:
        return incoming.body[name]
    if location == "body" and sole_body and incoming.body is not None:
        return incoming.body
    if location == "header":
        return incoming.headers.get(name)
    return None
