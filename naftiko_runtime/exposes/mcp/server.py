"""The MCP server of one adapter, on the SDK's low-level `Server`.

Tools, schemas and prompts come from YAML, not Python functions, so the low-level
API is the right fit: `McpService` answers tools/list, tools/call, resources and
prompts from the model, and `build_server` wires it to the SDK. Every tool call goes
through `Invoker.invoke`, exactly like REST; the caller's arguments are the only
thing taken from an MCP request, so its credentials never reach an upstream.
"""

from __future__ import annotations

import base64
import contextvars
import mimetypes
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mcp_types as types
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

from ... import __version__, jsonfast
from ...binding.incoming import Incoming
from ...capability.model import Action, McpAdapter, McpPrompt, McpResource
from ...errors import NaftikoError
from ...expressions.templates import Template, compile_prompt
from ...invoke.invoker import Invoker, Outcome
from ...invoke.output import NOTHING
from ...logs import LOGGER, SECRETS, redact_outcome
from ..headers import new_request_id
from .schema import annotations, bind_keys, input_schema, output_schema

# The request id of the MCP HTTP request being served (set by the HTTP guard; None over stdio).
CURRENT_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("naftiko_mcp_request_id", default=None)
# The MCP HTTP request's Idempotency-Key / If-Match, passed on to the upstream of the tool it calls.
CURRENT_HEADERS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("naftiko_mcp_headers", default=None)
_URI_VAR = re.compile(r"\{([^{}/]+)\}")


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
            annotations=types.ToolAnnotations.model_validate(annotations(action)),
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


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    return jsonfast.dumps(value)


def _structured(value: Any) -> dict[str, Any]:
    """`structuredContent` must be an object: anything else is wrapped as `{"result": ...}`."""
    return value if isinstance(value, dict) else {"result": value}


def _passthrough(outcome: Outcome) -> Any:
    """The upstream body when no outputParameters shaped it: JSON if it parses, else text."""
    if outcome.data is not NOTHING:
        return outcome.data
    if not outcome.raw:
        return None
    text = outcome.raw.decode("utf-8", "replace")
    try:
        return jsonfast.loads(text)
    except ValueError:
        return text


_PAGING = ("page", "cursor", "offset", "after", "per_page", "limit")
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)


def _next_page(spec: ToolSpec, link: str | None) -> dict[str, str] | None:
    """The tool arguments that fetch the next page, from the upstream's `Link: <…>; rel="next"`."""
    found = _NEXT_LINK.search(link or "")
    if found is None:
        return None
    known = spec.input_schema.get("properties", {})
    query = parse_qs(urlsplit(found.group(1)).query)
    following: dict[str, Any] = {}
    for key, values in query.items():
        if key in _PAGING and key in known and values:
            value = values[0]
            integer = known[key].get("type") == "integer" and value.isdigit()
            following[key] = int(value) if integer else value  # as the input schema wants it back
    return following or None


def _empty_result(spec: ToolSpec, outcome: Outcome) -> types.CallToolResult:
    """A 2xx without a body (cancel, delete, dry run) still tells the agent what happened:
    `{"ok": true, "status": 204}` and a sentence, never an empty text and `{"result": null}`.
    Where the tool's outputSchema gives `status` another type, the code is `http_status`."""
    where = f"upstream {outcome.upstream} " if outcome.upstream else "upstream "
    text = f"Done: {where}answered {outcome.status} with no content."
    structured: dict[str, Any] = {"ok": True, "status": outcome.status}
    if spec.output_validator is not None and not spec.output_validator.is_valid(structured):
        structured = {"ok": True, "http_status": outcome.status}  # the output schema's `status` means something else
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)


def error_result(message: str, **detail: Any) -> types.CallToolResult:
    body = {"message": message, **{k: v for k, v in detail.items() if v is not None}}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)],
        structured_content={"error": body},
        is_error=True,
    )


def failure_result(exc: NaftikoError) -> types.CallToolResult:
    """The MCP answer to any failed tool call: an error result carrying status, code and retry hint."""
    return error_result(SECRETS.redact(exc.message), error=exc.error, status=exc.status, upstream=exc.upstream,
                        parameter=exc.parameter, retry_after=exc.retry_after)


def _location_path(location: str, base_dir: Path) -> Path:
    """`file:///abs`, `file:///./rel`, `./rel`: relative paths are against the capability's directory."""
    path = location
    if path.startswith("file://"):
        path = path[len("file://"):]
        if path.startswith(("/./", "/../")):
            path = path[1:]
    p = Path(path)
    return (p if p.is_absolute() else base_dir / p).resolve()


def _read_file(path: Path, uri: str, mime: str | None) -> types.TextResourceContents | types.BlobResourceContents:
    data = path.read_bytes()
    mime = mime or mimetypes.guess_type(path.name)[0] or "text/plain"
    try:
        return types.TextResourceContents(uri=uri, mime_type=mime, text=data.decode("utf-8"))
    except UnicodeDecodeError:
        return types.BlobResourceContents(uri=uri, mime_type=mime, blob=base64.b64encode(data).decode("ascii"))


def _group(name: str) -> str:
    return "v_" + re.sub(r"\W", "_", name)


def _uri_pattern(template: str) -> re.Pattern[str]:
    """`{p}` matches one path segment, never a `/`."""
    parts, pos = [], 0
    for m in _URI_VAR.finditer(template):
        parts.append(re.escape(template[pos : m.start()]))
        parts.append(f"(?P<{_group(m.group(1))}>[^/]+)")
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts) + r"\Z")


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
        content = [types.TextContent(type="text", text=text)]
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
            types.PromptMessage(role=role if role in ("user", "assistant") else "user",
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
    return sdk_server(McpService(adapter, invoker))


def sdk_server(service: McpService) -> Server[Any]:
    """The SDK server answering with `service` (which the HTTP fast path also holds, explicitly)."""
    adapter = service.adapter

    async def on_list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=service.list_tools())

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return await service.call_tool(params.name, params.arguments)

    async def on_list_resources(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=service.list_resources())

    async def on_list_templates(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=service.list_resource_templates())

    async def on_read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        return await service.read_resource(str(params.uri))

    async def on_list_prompts(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=service.list_prompts())

    async def on_get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        return service.get_prompt(params.name, params.arguments)

    has_resources = bool(adapter.resources)
    server: Server[Any] = Server(
        adapter.namespace,
        version=__version__,
        instructions=adapter.description,
        get_tool_input_schema=service.tool_input_schema,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
        on_list_resources=on_list_resources if has_resources else None,
        on_list_resource_templates=on_list_templates if has_resources else None,
        on_read_resource=on_read_resource if has_resources else None,
        on_list_prompts=on_list_prompts if adapter.prompts else None,
        on_get_prompt=on_get_prompt if adapter.prompts else None,
    )
    return server
