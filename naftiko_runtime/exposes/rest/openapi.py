"""`naftiko export openapi`: the exposed REST surface as an OpenAPI 3.1 document.

Built from the same model the server routes from, so the document describes exactly
what is served: paths, parameters with types, request bodies, responses. Credentials
appear only as security schemes, never with their values.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ...binding.input_schema import bind_keys, input_schema
from ...binding.output_schema import named_outputs, output_node
from ...capability.model import (
    Action,
    Capability,
    InputParam,
    RestAdapter,
    RestOperation,
    RestResource,
)


def _alike(name: str) -> str:
    """Names the invoker takes for one another (`brand-id`, `brand_id`, `Brand.Id`)."""
    return "".join(c for c in name.casefold() if c not in "-_.")


def inferred_inputs(action: Action, binds: Collection[str] = ()) -> dict[str, dict[str, Any]]:
    """Values the upstream call cannot go without that the exposed route does not carry (a consumed path or
    base-URI placeholder such as bigcommerce's `{store_hash}`): the same inference as an MCP tool's required
    arguments. The REST handler reads any query value by name, so they are declared as required query parameters."""
    if action.call is None:
        return {}
    schema = input_schema(action, binds)
    props = schema.get("properties") or {}
    return {name: props.get(name) or {} for name in schema.get("required") or []}

_JSON = "application/json"
_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable code: invalid_input, upstream_rejected (4xx), upstream_failed (5xx), upstream_unreachable, …"},
        "message": {"type": "string"},
        "upstream": {
            "description": "The consumed operation that failed, or for an error the upstream answered, its status and own body (redacted).",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "required": ["status", "body"],
                    "properties": {"operation": {"type": "string"}, "status": {"type": "integer"}, "body": {}},
                },
            ],
        },
        "parameter": {"type": "string"},
    },
}


def _error_content() -> dict[str, Any]:
    """A fresh object each time (a shared one would be written as a YAML anchor)."""
    return {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}


# Passed on to the upstream by default (see invoke.client.FORWARDED_HEADERS): a retry with the same key is safe.
_FORWARDED = (
    ("Idempotency-Key", "Makes a retried write safe: the upstream answers a repeat with the same key with the first result."),
    ("If-Match", "Only apply the change if the resource still has this ETag."),
)
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


def response_schema(action: Action) -> dict[str, Any]:
    """The mapped answer's schema (the shared converter); `{}` where its shape is unknown."""
    named = named_outputs(action.outputs)
    if named is not None:
        return named
    if action.outputs:
        return output_node(action.outputs[0]) or {}
    return {}


def _input_schema(p: InputParam) -> dict[str, Any]:
    """A declared input's JSON Schema: type, pattern, enum, example; a free-form object says it is one
    (without `additionalProperties`, openapi-typescript types `{type: object}` as `Record<string, never>`)."""
    schema: dict[str, Any] = {"type": p.type}
    if p.pattern:
        schema["pattern"] = p.pattern
    if p.type == "array":
        schema["items"] = p.items or {}
    if p.type == "object":
        schema["additionalProperties"] = True
    if p.enum:
        schema["enum"] = list(p.enum)
    if p.example is not None:
        schema["examples"] = [p.example]
    return schema


def _untaken(inferred: dict[str, dict[str, Any]], taken: set[str]) -> dict[str, dict[str, Any]]:
    """Those the route, a declared input or the body does not already carry (matched as the invoker does)."""
    out: dict[str, dict[str, Any]] = {}
    for name, prop in inferred.items():
        if _alike(name) not in taken:
            taken.add(_alike(name))
            out[name] = prop
    return out


def inferred_query(resource: RestResource, op: RestOperation, binds: Collection[str] = ()) -> list[str]:
    """The inferred required query parameters `export openapi` declares for this operation (for `naftiko inspect`)."""
    params, _ = _parameters(resource, op, binds)
    return [p["name"] for p in params if p.get("x-naftiko-inferred")]


def _whole_body(p: InputParam) -> bool:
    """`body` (or the only body input of an object type named so) stands for the request body itself."""
    return p.name == "body"


def _parameters(resource: RestResource, op: RestOperation, binds: Collection[str] = ()) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    params: list[dict[str, Any]] = []
    declared = op.action.inputs or []
    seen: set[tuple[str, str]] = set()
    body_props: dict[str, Any] = {}
    body_required: list[str] = []
    whole: dict[str, Any] | None = None
    for p in declared:
        schema = _input_schema(p)
        if p.location == "body":
            if _whole_body(p):
                whole = {"required": p.required, "content": {_JSON: {"schema": schema}}}
                if p.description:
                    whole["description"] = p.description
                continue
            body_props[p.name] = {**schema, **({"description": p.description} if p.description else {})}
            if p.required:
                body_required.append(p.name)
            continue
        where = p.location or "query"
        seen.add((p.name.casefold(), where))
        params.append({
            "name": p.name, "in": where, "required": True if where == "path" else p.required,
            "schema": schema, **({"description": p.description} if p.description else {}),
        })
    if op.method in _WRITES:
        for name, description in _FORWARDED:
            if (name.casefold(), "header") not in seen:
                params.append({"name": name, "in": "header", "required": False, "schema": {"type": "string"}, "description": description})
                seen.add((name.casefold(), "header"))
    route = op.path or resource.path
    for name in route.names:
        if (name.casefold(), "path") not in seen:
            params.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
            seen.add((name.casefold(), "path"))
    call = op.action.call
    if call is not None:
        refs = {(v.ref or ""): k for k, v in call.with_.items() if v.kind == "ref"}
        path_names = {n.casefold() for n in route.names}
        for cp in call.operation.params:
            if cp.location != "query":
                continue
            incoming = next((ref for ref, key in refs.items() if key == cp.name), cp.name)
            if (incoming.casefold(), "query") in seen or incoming.casefold() in path_names:
                continue
            seen.add((incoming.casefold(), "query"))
            params.append({
                "name": incoming, "in": "query", "required": bool(cp.required),
                "schema": {"type": cp.type or "string"}, **({"description": cp.description} if cp.description else {}),
            })
    taken = {_alike(n) for n, _ in seen} | {_alike(n) for n in body_props} | {"body"}
    for name, prop in _untaken(inferred_inputs(op.action, binds), taken).items():
        seen.add((name.casefold(), "query"))
        params.append({"name": name, "in": "query", "required": True, "schema": {"type": prop.get("type", "string")},
                       "description": prop.get("description") or f"'{name}', which the upstream call needs (inferred).",
                       "x-naftiko-inferred": True})
    body: dict[str, Any] | None = whole
    if body_props:
        schema = {"type": "object", "properties": body_props, **({"required": body_required} if body_required else {})}
        body = {"required": bool(body_required), "content": {_JSON: {"schema": schema}}}
    elif body is None and call is not None:
        body = _consumed_body(call.operation, op.method)
    return params, body


def _consumed_body(operation: Any, method: str) -> dict[str, Any] | None:
    """The body an undeclared operation forwards, from the consumed side: its `in: body` parameters
    (one alone is the whole body) or the keys of its JSON body template."""
    body_params = [cp for cp in operation.params if cp.location == "body"]
    template = operation.body
    if not body_params and (template is None or method not in ("POST", "PUT", "PATCH")):
        return None
    schema: dict[str, Any] = {"type": "object", "additionalProperties": True}
    if len(body_params) > 1:
        schema["properties"] = {cp.name: ({"type": cp.type} if cp.type else {}) for cp in body_params}
    elif template is not None and template.kind == "json" and isinstance(template.data, dict):
        schema["properties"] = {str(k): {} for k in template.data}
    required = any(cp.required for cp in body_params)
    body: dict[str, Any] = {"required": required, "content": {_JSON: {"schema": schema}}}
    description = next((cp.description for cp in body_params if cp.description), None)
    if description:
        body["description"] = description
    return body


# What an upstream may answer on success, by method: the runtime relays the status it gets.
_SUCCESS = {
    "GET": ("200",), "HEAD": ("200",), "OPTIONS": ("200",),
    "POST": ("200", "201", "202", "204"), "PUT": ("200", "201", "204"), "PATCH": ("200", "204"),
    "DELETE": ("200", "202", "204"),
}
_SUCCESS_TEXT = {
    "200": "The upstream answer", "201": "Created: the upstream answer, with the new resource",
    "202": "Accepted: the upstream will finish the work later", "204": "Done; the upstream answered with no content",
}


def _success_responses(action: Action, method: str) -> dict[str, Any]:
    """Every 2xx this operation may relay (a dry run or a cancel answers 204, a create 201), each with the
    mapped shape except 204, which has no body."""
    upstream = action.call.operation.method.upper() if action.call is not None else method
    codes = _SUCCESS.get(upstream, ("200",)) if action.call is not None else ("200",)
    out: dict[str, Any] = {}
    for code in codes:
        out[code] = {"description": _SUCCESS_TEXT[code]}
        if code != "204":
            out[code]["content"] = {_JSON: {"schema": response_schema(action)}}
    return out


def _security(adapter: RestAdapter) -> tuple[dict[str, Any], list[dict[str, list[str]]]]:
    auth = adapter.auth
    if auth is None:
        return {}, []
    name = f"{adapter.namespace}-auth"
    if auth.type == "bearer":
        scheme: dict[str, Any] = {"type": "http", "scheme": "bearer"}
    elif auth.type == "basic":
        scheme = {"type": "http", "scheme": "basic"}
    elif auth.type == "apikey":
        scheme = {"type": "apiKey", "name": auth.key or "X-API-Key", "in": "query" if auth.placement == "query" else "header"}
    else:
        return {}, []
    return {name: scheme}, [{name: []}]


def build_openapi(capability: Capability) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemes: dict[str, Any] = {}
    servers = []
    operation_ids: set[str] = set()
    binds = bind_keys(capability)
    for adapter in capability.adapters:
        if not isinstance(adapter, RestAdapter):
            continue
        servers.append({"url": f"http://{adapter.address or '127.0.0.1'}:{adapter.port}", "description": adapter.namespace})
        adapter_schemes, security = _security(adapter)
        schemes.update(adapter_schemes)
        for resource in adapter.resources:
            for op in resource.operations:
                item = paths.setdefault((op.path or resource.path).route, {})
                params, body = _parameters(resource, op, binds)
                action = op.action
                operation_id = f"{adapter.namespace}.{action.name or op.method.lower()}"
                if operation_id in operation_ids:
                    operation_id = f"{adapter.namespace}.{resource.name or resource.path.raw}.{action.name or op.method.lower()}"
                operation_ids.add(operation_id)
                operation: dict[str, Any] = {
                    "operationId": operation_id,
                    "summary": action.label or action.description or action.name,
                    "responses": {
                        **_success_responses(action, op.method),
                        "400": {"description": "Invalid input, or the upstream refused it", "content": _error_content()},
                        "502": {"description": "Upstream failed, or redirected (redirects are not followed)", "content": _error_content()},
                        "503": {"description": "Upstream busy or unavailable (too many calls in flight: see Retry-After), or the operation is disabled", "content": _error_content()},
                        "504": {"description": "Upstream timed out", "content": _error_content()},
                        "default": {"description": "An error the upstream answered, with its own status; its body is under `upstream.body`", "content": _error_content()},
                    },
                }
                if action.description:
                    operation["description"] = action.description
                if resource.name:
                    operation["tags"] = [resource.name]
                if params:
                    operation["parameters"] = params
                if body:
                    operation["requestBody"] = body
                operation["security"] = security  # [] says outright that no credentials are needed
                if security:
                    operation["responses"]["401"] = {"description": "Missing or invalid credentials", "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}
                item[op.method.lower()] = operation
    components: dict[str, Any] = {"schemas": {"Error": _ERROR}}
    if schemes:
        components["securitySchemes"] = schemes
    return {
        "openapi": "3.1.0",
        "info": {
            "title": capability.label or capability.file.stem,
            "version": "1.0.0",
            **({"description": capability.description} if capability.description else {}),
        },
        "servers": servers,
        "paths": paths,
        "components": components,
    }
