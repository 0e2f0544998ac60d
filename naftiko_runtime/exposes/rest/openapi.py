"""`naftiko export openapi`: the exposed REST surface as an OpenAPI 3.1 document.

Built from the same model the server routes from, so the document describes exactly
what is served: paths, parameters with types, request bodies, responses. Credentials
appear only as security schemes, never with their values.
"""

from __future__ import annotations

from typing import Any

from ...capability.model import (
    Action,
    Capability,
    Output,
    RestAdapter,
    RestOperation,
    RestResource,
)

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


def output_schema(out: Output) -> dict[str, Any]:
    """JSON Schema of one output node; unknown shapes stay open."""
    if out.type == "object":
        if out.properties:
            return {"type": "object", "properties": {k: output_schema(v) for k, v in out.properties.items()}}
        return {}
    if out.type == "array":
        if isinstance(out.items, Output):
            return {"type": "array", "items": output_schema(out.items)}
        if isinstance(out.items, list):
            return {"type": "array", "items": {"type": "object", "properties": {o.name: output_schema(o) for o in out.items if o.name}}}
        return {"type": "array"}
    if out.type in ("string", "number", "integer", "boolean"):
        return {"type": out.type}
    return {}


def response_schema(action: Action) -> dict[str, Any]:
    named = [o for o in action.outputs if o.name]
    if named and len(named) == len(action.outputs):
        return {"type": "object", "properties": {o.name: output_schema(o) for o in named}}
    if action.outputs:
        return output_schema(action.outputs[0])
    return {}


def _parameters(resource: RestResource, op: RestOperation) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    params: list[dict[str, Any]] = []
    declared = op.action.inputs or []
    seen: set[tuple[str, str]] = set()
    body_props: dict[str, Any] = {}
    body_required: list[str] = []
    for p in declared:
        schema: dict[str, Any] = {"type": p.type}
        if p.pattern:
            schema["pattern"] = p.pattern
        if p.type == "array":
            schema["items"] = p.items or {}
        if p.location == "body":
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
    body: dict[str, Any] | None = None
    if body_props:
        schema = {"type": "object", "properties": body_props, **({"required": body_required} if body_required else {})}
        body = {"required": bool(body_required), "content": {_JSON: {"schema": schema}}}
    elif call is not None:
        body_params = [cp for cp in call.operation.params if cp.location == "body"]
        if body_params or (call.operation.body is not None and op.method in ("POST", "PUT", "PATCH")):
            required = any(cp.required for cp in body_params)
            description = next((cp.description for cp in body_params if cp.description), None)
            body = {"required": required, "content": {_JSON: {"schema": {"type": "object"}}}}
            if description:
                body["description"] = description
    return params, body


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
    for adapter in capability.adapters:
        if not isinstance(adapter, RestAdapter):
            continue
        servers.append({"url": f"http://{adapter.address or '127.0.0.1'}:{adapter.port}", "description": adapter.namespace})
        adapter_schemes, security = _security(adapter)
        schemes.update(adapter_schemes)
        for resource in adapter.resources:
            for op in resource.operations:
                item = paths.setdefault((op.path or resource.path).route, {})
                params, body = _parameters(resource, op)
                action = op.action
                success = "201" if op.method == "POST" and action.call and action.call.operation.method == "POST" else "200"
                operation_id = f"{adapter.namespace}.{action.name or op.method.lower()}"
                if operation_id in operation_ids:
                    operation_id = f"{adapter.namespace}.{resource.name or resource.path.raw}.{action.name or op.method.lower()}"
                operation_ids.add(operation_id)
                operation: dict[str, Any] = {
                    "operationId": operation_id,
                    "summary": action.label or action.description or action.name,
                    "responses": {
                        success: {"description": "The upstream answer, mapped", "content": {_JSON: {"schema": response_schema(action)}}},
                        "400": {"description": "Invalid input, or the upstream refused it", "content": _error_content()},
                        "502": {"description": "Upstream failed, or redirected (redirects are not followed)", "content": _error_content()},
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
                if security:
                    operation["security"] = security
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
