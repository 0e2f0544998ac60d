"""Normalise what a capability exposes: REST, MCP, skill and control adapters."""

from __future__ import annotations

import re
from typing import Any

from ...expressions.paths import PathTemplate
from ...expressions.templates import Template, compile_prompt, prompt_deviations
from .. import model as m
from ..yaml_source import JsonPath as YPath
from .actions import action, exposed_inputs
from .consumes import auth as auth_of
from .context import Context
from .others import control_adapter, skill_adapter
from .values import as_dict, as_list, as_str, join_operation_path, merge_inputs


def adapter(ctx: Context, raw: dict[str, Any], path: YPath) -> m.Adapter | None:
    namespace = str(raw.get("namespace", ""))
    with ctx.part("adapter", namespace) as part:
        result = _adapter(ctx, raw, namespace, path)
        return None if part in ctx.disabled else result  # a broken adapter is left out; the others serve


def _adapter(ctx: Context, raw: dict[str, Any], namespace: str, path: YPath) -> m.Adapter | None:
    kind = raw.get("type")
    auth = auth_of(ctx, raw.get("authentication"), path + ("authentication",))
    port = raw.get("port") if isinstance(raw.get("port"), int) else None
    address = as_str(raw.get("address"))
    if kind == "rest":
        resources = [
            rest_resource(ctx, r, namespace, path + ("resources", i))
            for i, r in enumerate(as_list(raw.get("resources")))
            if isinstance(r, dict)
        ]
        return m.RestAdapter(namespace, port or 0, address, auth, resources, ctx.where(path))
    if kind == "mcp":
        return m.McpAdapter(
            namespace=namespace,
            port=port,
            address=address,
            transport=str(raw.get("transport", "http")),
            description=as_str(raw.get("description")),
            auth=auth,
            tools=[tool(ctx, t, namespace, path + ("tools", i)) for i, t in enumerate(as_list(raw.get("tools"))) if isinstance(t, dict)],
            resources=mcp_resources(ctx, raw.get("resources"), namespace, path + ("resources",)),
            prompts=mcp_prompts(ctx, raw.get("prompts"), path + ("prompts",)),
            where=ctx.where(path),
        )
    if kind == "skill":
        return skill_adapter(raw, namespace or None, port, address, auth, ctx.where(path))
    if kind == "control":
        return control_adapter(raw, namespace or None, port, address, auth, ctx.where(path))
    ctx.error(f"unknown adapter type '{kind}' (rest, mcp, skill, control)", path + ("type",))
    return None


def rest_resource(ctx: Context, raw: dict[str, Any], adapter: str, path: YPath) -> m.RestResource:
    raw_path = str(raw.get("path", ""))
    if raw_path and not raw_path.startswith("/"):
        ctx.warn(f"path '{raw_path}' does not start with '/'; it is served at '/{raw_path}'", path + ("path",),
                 "exposed-path-relative")
        raw_path = "/" + raw_path
    if "#" in raw_path:
        ctx.warn(f"path '{raw_path}' has a fragment, which no HTTP request carries; it is served at "
                 f"'{raw_path.split('#')[0] or '/'}'", path + ("path",), "exposed-path-fragment")
        raw_path = raw_path.split("#")[0] or "/"
    template = PathTemplate.parse(raw_path)
    if re.match(r"^/(v\d+)/\1(/|$)", template.raw):
        ctx.warn(
            f"path '{template.raw}' repeats its version prefix; it is served exactly as declared",
            path + ("path",),
            "double-prefix",
        )
    shared_inputs = exposed_inputs(ctx, raw.get("inputParameters"), path + ("inputParameters",), rest=True)
    operations = []
    for i, op in enumerate(as_list(raw.get("operations"))):
        if not isinstance(op, dict):
            continue
        method = str(op.get("method", "GET")).upper()
        site = PathTemplate.parse(join_operation_path(template.raw, op["path"])) if isinstance(op.get("path"), str) else template
        result = action(ctx, op, adapter, path + ("operations", i), kind="route", part_name=f"{method} {site.raw}",
                        rest=True, site_path=site, method=method)
        if result.inputs is not None or shared_inputs:
            result.inputs = merge_inputs(shared_inputs, result.inputs or [])
        operations.append(m.RestOperation(method, result, site if site is not template else None))
    forward = None
    if isinstance(raw.get("forward"), dict):
        fwd = raw["forward"]
        forward = m.Forward(str(fwd.get("targetNamespace", "")), [str(h) for h in as_list(fwd.get("trustedHeaders"))])
        if forward.target_namespace not in ctx.apis:
            ctx.error(f"forward targets unknown consumes namespace '{forward.target_namespace}'", path + ("forward",))
    return m.RestResource(template, as_str(raw.get("name")), as_str(raw.get("description")), operations, forward, ctx.where(path))


def tool(ctx: Context, raw: dict[str, Any], adapter: str, path: YPath) -> m.Action:
    referenced = ctx.aggregates.get(str(raw["ref"])) if raw.get("ref") is not None else None
    name = str(raw.get("name") or (referenced.name if referenced else ""))  # a `ref` tool may take its function's name
    with ctx.part("tool", name):
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,128}", name):
            ctx.error(f"MCP tool name '{name}' must be 1-128 characters of A-Z a-z 0-9 . _ -", path + ("name",))
        elif len(name) > 64:
            ctx.warn(f"MCP tool name '{name}' is longer than 64 characters; some clients truncate or refuse it", path + ("name",))
    return action(ctx, raw, adapter, path, kind="tool", rest=False)


def mcp_resources(ctx: Context, raw: Any, adapter: str, path: YPath) -> list[m.McpResource]:
    out = []
    for i, r in enumerate(as_list(raw)):
        r = as_dict(r)
        result = None
        if r.get("call") or r.get("steps"):
            result = action(ctx, r, adapter, path + (i,), kind="resource", rest=False)
        out.append(
            m.McpResource(
                name=str(r.get("name", "")), label=as_str(r.get("label")), uri=str(r.get("uri", "")),
                description=as_str(r.get("description")), mime_type=as_str(r.get("mimeType")),
                action=result, location=as_str(r.get("location")),
            )
        )
    return out


def mcp_prompts(ctx: Context, raw: Any, path: YPath) -> list[m.McpPrompt]:
    out = []
    for i, p in enumerate(as_list(raw)):
        p = as_dict(p)
        arguments = [as_dict(a) for a in as_list(p.get("arguments"))]
        out.append(
            m.McpPrompt(
                name=str(p.get("name", "")), label=as_str(p.get("label")), description=as_str(p.get("description")),
                arguments=[
                    m.PromptArgument(str(a.get("name", "")), as_str(a.get("label")), as_str(a.get("description")),
                                     bool(a.get("required", True)))
                    for a in arguments
                ],
                template=[
                    m.PromptMessage(str(t.get("role", "user")), prompt_text(ctx, t.get("content", ""), path + (i, "template", j, "content")))
                    for j, t in enumerate(as_dict(t) for t in as_list(p.get("template")))
                ],
                location=as_str(p.get("location")),
            )
        )
    return out


def prompt_text(ctx: Context, raw: Any, path: YPath) -> Template:
    """A prompt message through the one template engine; placeholders alpha2 would not fill are flagged."""
    text = str(raw)
    for tag in prompt_deviations(text):
        ctx.warn(
            f"prompt placeholder '{tag}' is not alpha2 syntax ({{{{name}}}}: letters, digits and '_', no spaces), "
            "which the reference engine leaves as text; the runtime fills it like any other template",
            path,
            "prompt-placeholder",
        )
    return compile_prompt(text)
