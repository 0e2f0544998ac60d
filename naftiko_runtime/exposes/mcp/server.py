"""The MCP server of one adapter, on the SDK's low-level `Server`.

Tools, schemas and prompts come from YAML, not Python functions, so the low-level
API is the right fit: `McpService` answers tools/list, tools/call, resources and
prompts from the model, and `build_server` wires it to the SDK. Every tool call goes
through `Invoker.invoke`, exactly like REST; the caller's arguments are the only
thing taken from an MCP request, so its credentials never reach an upstream.
"""

from __future__ import annotations

import contextvars
import mimetypes
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp_types as types
from jsonschema.exceptions import ValidationError as SchemaError
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

from ...binding.incoming import Incoming
from ...binding.input_schema import bind_keys
from ...capability.model import McpAdapter, McpPrompt, McpResource
from ...errors import NaftikoError
from ...expressions.templates import Template, compile_prompt
from ...invoke.invoker import Invoker, Outcome
from ...logs import LOGGER, SECRETS, redact_outcome
from ...version import __version__
from ..headers import new_request_id
from .resources import _URI_VAR, _group, _location_path, _read_file, _uri_pattern
from .results import (
    _empty_result,
    _json_text,
    _next_page,
    _passthrough,
    _structured,
    error_result,
    failure_result,
)
from .tools import ToolSpec, argument_errors, plain_object_check

__all__ = ["CURRENT_HEADERS", "CURRENT_REQUEST_ID", "McpService", "ServiceSlot", "ToolSpec", "build_server", "error_result", "failure_result",
           "plain_object_check", "register_handlers", "sdk_server"]

# The request id of the MCP HTTP request being served (set by the HTTP guard; None over stdio).
CURRENT_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("naftiko_mcp_request_id", default=None)
# The MCP HTTP request's Idempotency-Key / If-Match, passed on to the upstream of the tool it calls.
CURRENT_HEADERS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("naftiko_mcp_headers", default=None)


@dataclass
class McpService:
    """Answers every MCP request of one adapter from the capability model."""

    adapter: McpAdapter
    invoker: Invoker
    tools: dict[str, ToolSpec] = field(init=False)

    def __post_init__(self) -> None:
        binds = bind_keys(self.invoker.capability)
        self.tools = {t.name: ToolSpec.of(t, binds) for t in self.adapter.tools}
        # Resource and prompt locations, and the files of resource folders, resolved once per server
        # (a reload builds a new one), not per request.
        self._roots = {id(r): _location_path(r.location, self.base_dir) for r in self.adapter.resources if r.location}
        self._listing = self._list_resources()
        self._prompt_files = {p.name: self._prompt_file(p) for p in self.adapter.prompts if p.location}

    @property
    def base_dir(self) -> Path:
        return self.invoker.capability.base_dir

    # -- tools -----------------------------------------------------------------------
    def list_tools(self) -> list[types.Tool]:
        return [spec.as_tool() for spec in self.tools.values()]

    def tool_input_schema(self, name: str) -> dict[str, Any] | None:
        spec = self.tools.get(name)
        return spec.input_schema if spec else None

    async def call_tool(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """Raises MCPError for an unknown tool; every other failure is an `isError` result."""
        spec = self.tools.get(name)
        if spec is None:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {name}", data={"tool": name})
        if spec.action.broken:  # a tool disabled by a defect of the file says so, whatever the arguments
            return error_result(f"'{name}' is disabled: {spec.action.broken}", error="operation_disabled", status=503)
        arguments = arguments or {}
        problems = argument_errors(spec, arguments)
        if problems:
            return error_result(f"Invalid arguments for tool '{name}': " + "; ".join(problems), error="invalid_arguments")
        request_id = CURRENT_REQUEST_ID.get() or new_request_id()
        start = time.perf_counter()
        status: int | None = None
        upstream_status: int | None = None
        try:
            incoming = Incoming(values=dict(arguments), origin="mcp", request_id=request_id, headers=CURRENT_HEADERS.get() or {})
            outcome = await self.invoker.invoke(spec.action, incoming)
            status, upstream_status = outcome.status, outcome.upstream_status
            if outcome.status >= 300:
                redact_outcome(outcome)  # an upstream may echo the credentials it was sent
            return self._result(spec, outcome)
        except NaftikoError as exc:
            status = exc.status
            return failure_result(exc)
        finally:
            LOGGER.info(
                "tool call",
                extra={"adapter": self.adapter.namespace, "route": "tools/call", "operation": name, "tool": name,
                       "status": status, "upstream_status": upstream_status,
                       "duration_ms": round((time.perf_counter() - start) * 1000, 2), "request_id": request_id},
            )

    def _result(self, spec: ToolSpec, outcome: Outcome) -> types.CallToolResult:
        value = _passthrough(outcome)
        where = f"upstream {outcome.upstream} " if outcome.upstream else "upstream "
        if outcome.is_redirect:
            return error_result(f"{where}answered {outcome.status}, a redirect; redirects are not followed",
                                error="upstream_redirect", status=outcome.status, upstream=outcome.upstream)
        if outcome.status >= 400:
            message = outcome.message or f"HTTP {outcome.status}"
            return error_result(f"{where}answered {outcome.status}: {message}", status=outcome.status,
                                upstream=outcome.upstream, body=value)
        if value is None and outcome.is_empty:
            return _empty_result(spec, outcome)
        structured = _structured(value)
        if spec.output_validator is not None:
            errors = list(spec.output_validator.iter_errors(structured))
            if errors:
                first: SchemaError = errors[0]
                return error_result(f"the answer does not match the tool's outputSchema: {first.message}",
                                    error="output_mismatch", status=outcome.status)
        text = value if isinstance(value, str) else _json_text(value)
        content: list[types.ContentBlock] = [types.TextContent(type="text", text=text)]
        following = _next_page(spec, outcome.headers.get("Link"))
        if following and "next_page" not in structured:  # an agent cannot read the Link header: say it
            structured = {**structured, "next_page": following}
            content.append(types.TextContent(type="text", text=f"More results: call again with {_json_text(following)}."))
        return types.CallToolResult(content=content, structured_content=structured)

    # -- resources -------------------------------------------------------------------
    def _directory(self, resource: McpResource) -> Path | None:
        path = self._roots.get(id(resource))
        return path if path is not None and path.is_dir() else None

    def list_resources(self) -> list[types.Resource]:
        return list(self._listing)

    def _list_resources(self) -> list[types.Resource]:
        out: list[types.Resource] = []
        for r in self.adapter.resources:
            if _URI_VAR.search(r.uri):
                continue
            directory = self._directory(r)
            if directory is None:
                out.append(types.Resource(name=r.name, title=r.label, uri=r.uri, description=r.description, mime_type=r.mime_type))
                continue
            for f in sorted(p for p in directory.rglob("*") if p.is_file()):
                rel = f.relative_to(directory).as_posix()
                out.append(types.Resource(name=f"{r.name}/{rel}", title=r.label, uri=f"{r.uri.rstrip('/')}/{rel}",
                                          description=r.description, mime_type=r.mime_type or mimetypes.guess_type(f.name)[0]))
        return out

    def list_resource_templates(self) -> list[types.ResourceTemplate]:
        return [
            types.ResourceTemplate(name=r.name, title=r.label, uri_template=r.uri, description=r.description, mime_type=r.mime_type)
            for r in self.adapter.resources
            if _URI_VAR.search(r.uri)
        ]

    def _match(self, uri: str) -> tuple[McpResource, dict[str, str], str | None] | None:
        """The resource serving `uri`, its template values, and a file path inside its directory."""
        for r in self.adapter.resources:
            if _URI_VAR.search(r.uri):
                m = _uri_pattern(r.uri).match(uri)
                if m:
                    names = [v.group(1) for v in _URI_VAR.finditer(r.uri)]
                    return r, {n: m.group(_group(n)) for n in names}, None
            elif uri == r.uri:
                return r, {}, None
            elif r.location and uri.startswith(r.uri.rstrip("/") + "/"):
                return r, {}, uri[len(r.uri.rstrip("/")) + 1 :]
        return None

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        found = self._match(uri)
        if found is None:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown resource: {uri}", data={"uri": uri})
        resource, values, rel = found
        if resource.location:
            return types.ReadResourceResult(contents=[self._read_location(resource, values, rel, uri)])
        if resource.action is None:
            raise MCPError(code=INVALID_PARAMS, message=f"Resource {resource.name} has nothing to read", data={"uri": uri})
        try:
            request_id = CURRENT_REQUEST_ID.get() or new_request_id()
            outcome = await self.invoker.invoke(resource.action, Incoming(values=dict(values), origin="mcp", request_id=request_id))
        except NaftikoError as exc:
            raise MCPError(code=INTERNAL_ERROR, message=SECRETS.redact(exc.message), data={"uri": uri, "status": exc.status}) from None
        if outcome.status >= 300:
            redact_outcome(outcome)
        value = _passthrough(outcome)
        if outcome.is_redirect:
            raise MCPError(code=INTERNAL_ERROR, message=f"upstream answered {outcome.status}, a redirect; redirects are not followed",
                           data={"uri": uri, "status": outcome.status})
        if outcome.status >= 400:
            raise MCPError(code=INTERNAL_ERROR, message=f"upstream answered {outcome.status}: {outcome.message}",
                           data={"uri": uri, "status": outcome.status})
        text = value if isinstance(value, str) else _json_text(value)
        mime = resource.mime_type or ("application/json" if not isinstance(value, str) else outcome.content_type or "text/plain")
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)])

    def _read_location(self, resource: McpResource, values: dict[str, str], rel: str | None, uri: str) -> Any:
        root = self._roots[id(resource)]
        if root.is_file():
            return _read_file(root, uri, resource.mime_type)
        target_rel = rel if rel is not None else "/".join(values.values())
        target = (root / target_rel).resolve() if target_rel else root
        if not target.is_relative_to(root) or not target.is_file():
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown resource: {uri}", data={"uri": uri})
        return _read_file(target, uri, resource.mime_type)

    # -- prompts ---------------------------------------------------------------------
    def list_prompts(self) -> list[types.Prompt]:
        return [
            types.Prompt(
                name=p.name, title=p.label, description=p.description,
                arguments=[
                    types.PromptArgument(name=a.name, title=a.label, description=a.description, required=a.required)
                    for a in p.arguments
                ],
            )
            for p in self.adapter.prompts
        ]

    def get_prompt(self, name: str, arguments: dict[str, str] | None) -> types.GetPromptResult:
        prompt = next((p for p in self.adapter.prompts if p.name == name), None)
        if prompt is None:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {name}", data={"prompt": name})
        arguments = arguments or {}
        missing = [a.name for a in prompt.arguments if a.required and a.name not in arguments]
        if missing:
            raise MCPError(code=INVALID_PARAMS, message=f"Prompt '{name}' needs argument(s): {', '.join(missing)}",
                           data={"prompt": name, "missing": missing})
        messages = [
            types.PromptMessage(role="assistant" if role == "assistant" else "user",
                                content=types.TextContent(type="text", text=template.render(arguments)))
            for role, template in self._prompt_parts(prompt)
        ]
        return types.GetPromptResult(description=prompt.description, messages=messages)

    def _prompt_file(self, prompt: McpPrompt) -> Path:
        """A prompt's `location`: the file itself, or in a folder `<name>.md`, `<name>.txt` or `<name>`."""
        path = _location_path(prompt.location or "", self.base_dir)
        if path.is_dir():
            path = next((path / f"{prompt.name}{ext}" for ext in (".md", ".txt", "") if (path / f"{prompt.name}{ext}").is_file()), path)
        return path

    def _prompt_parts(self, prompt: McpPrompt) -> list[tuple[str, Template]]:
        if prompt.template:
            return [(m.role, m.content) for m in prompt.template]
        if prompt.location:
            path = self._prompt_files.get(prompt.name) or self._prompt_file(prompt)
            if path.is_file():
                # Read per request (an edited file is seen); compiled once per distinct text.
                return [("user", compile_prompt(path.read_text("utf-8")))]
            raise MCPError(code=INTERNAL_ERROR, message=f"Prompt '{prompt.name}': cannot read {prompt.location}")
        return []


def build_server(adapter: McpAdapter, invoker: Invoker) -> Server[Any]:
    """A low-level SDK server for `adapter`; resources and prompts only when the file declares them."""
    return sdk_server(ServiceSlot(McpService(adapter, invoker)))


@dataclass
class ServiceSlot:
    """The service an SDK server answers with: a reload puts a new one here, the SDK server stays as built."""

    service: McpService


def sdk_server(slot: ServiceSlot) -> Server[Any]:
    """The SDK server answering with `slot.service` (which the HTTP fast path also holds, explicitly)."""
    adapter = slot.service.adapter
    server: Server[Any] = Server(
        adapter.namespace,
        version=__version__,
        instructions=adapter.description,
        get_tool_input_schema=lambda name: slot.service.tool_input_schema(name),
    )
    register_handlers(server, slot)
    return server


def register_handlers(server: Server[Any], slot: ServiceSlot) -> None:
    """Register, through the SDK's own API, a handler for each request `slot.service`'s adapter answers.

    Each handler reads the slot when called, so a reload that adds resources or prompts registers
    those and nothing else changes on the running server."""

    async def on_list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=slot.service.list_tools())

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return await slot.service.call_tool(params.name, params.arguments)

    async def on_list_resources(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=slot.service.list_resources())

    async def on_list_templates(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=slot.service.list_resource_templates())

    async def on_read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        return await slot.service.read_resource(str(params.uri))

    async def on_list_prompts(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=slot.service.list_prompts())

    async def on_get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        return slot.service.get_prompt(params.name, params.arguments)

    adapter = slot.service.adapter
    handlers: list[tuple[str, Any, Any]] = [
        ("tools/list", types.PaginatedRequestParams, on_list_tools),
        ("tools/call", types.CallToolRequestParams, on_call_tool),
    ]
    if adapter.resources:
        handlers += [
            ("resources/list", types.PaginatedRequestParams, on_list_resources),
            ("resources/templates/list", types.PaginatedRequestParams, on_list_templates),
            ("resources/read", types.ReadResourceRequestParams, on_read_resource),
        ]
    if adapter.prompts:
        handlers += [
            ("prompts/list", types.PaginatedRequestParams, on_list_prompts),
            ("prompts/get", types.GetPromptRequestParams, on_get_prompt),
        ]
    for method, params_type, handler in handlers:
        if server.get_request_handler(method) is None:
            server.add_request_handler(method, params_type, handler)
