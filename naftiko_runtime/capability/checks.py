"""Semantic checks over a normalised capability: what no schema can see."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from yarl import URL

from ..expressions.paths import PLACEHOLDER, PathTemplate
from . import model as m
from .diagnostics import Diagnostic


def base_uri_problem(base: str) -> str | None:
    """Why a base URI cannot be a URL once its placeholders are filled (None: it can, or it is empty)."""
    if not base or PLACEHOLDER.fullmatch(base.strip()):
        return None
    origin = PLACEHOLDER.match(base)
    if origin and base[origin.end():].startswith("/"):  # `{{env.BASE_URL}}/api`: the placeholder holds the origin
        base = "http://x" + base[origin.end():]
    base = re.sub(r"^(?:\{\{[^{}]+\}\}|\{[^{}]+\})://", "http://", base)  # `{scheme}://{host}`: filled per call
    probe = PLACEHOLDER.sub("x", base)
    try:
        url = URL(probe)
    except ValueError as exc:
        return str(exc)
    if url.scheme not in ("http", "https") or not url.host:
        return "expected http(s)://host[/path]"
    return None


def _diag(severity: str, message: str, where: m.Location | None, code: str = "semantic") -> Diagnostic:
    file, line, col = (where.file, where.line, where.col) if where else ("", 0, 0)
    return Diagnostic(severity, message, file, line, col, (), code)  # type: ignore[arg-type]


def check(cap: m.Capability) -> list[Diagnostic]:
    return [
        *_unique_namespaces(cap),
        *_ports(cap),
        *_references(cap),
        *_binds(cap),
        *_base_uris(cap),
    ]


def _unique_namespaces(cap: m.Capability) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {api.namespace: "consumes" for api in cap.consumes}
    for adapter in cap.adapters:
        ns = adapter.namespace
        if not ns:
            continue
        if ns in seen:
            yield _diag("error", f"namespace '{ns}' is used by a {seen[ns]} entry and a {adapter.type} adapter; namespaces must be unique", adapter.where)
        seen[ns] = f"{adapter.type} adapter"


def _ports(cap: m.Capability) -> Iterator[Diagnostic]:
    by_port: dict[int, list[m.Adapter]] = defaultdict(list)
    for adapter in cap.adapters:
        if adapter.port and not (isinstance(adapter, m.McpAdapter) and adapter.transport == "stdio"):
            by_port[adapter.port].append(adapter)
    for port, adapters in by_port.items():
        if len(adapters) < 2:
            continue
        kinds = {a.type for a in adapters}
        names = ", ".join(f"{a.type} '{a.namespace}'" for a in adapters)
        if kinds == {"rest"}:
            yield _diag("warning", f"port {port} is shared by {names}; they are served by one server", adapters[1].where)
        else:
            yield _diag("error", f"port {port} is used by {names}; each adapter type needs its own port", adapters[1].where)


def _actions(cap: m.Capability) -> Iterator[tuple[m.Action, PathTemplate | None, str]]:
    for adapter in cap.adapters:
        if isinstance(adapter, m.RestAdapter):
            for res in adapter.resources:
                for op in res.operations:
                    yield op.action, op.path or res.path, "rest"
        elif isinstance(adapter, m.McpAdapter):
            for tool in adapter.tools:
                yield tool, None, "mcp"


def _references(cap: m.Capability) -> Iterator[Diagnostic]:
    prefixed: dict[str, tuple[int, m.Location | None]] = {}
    for action, path, kind in _actions(cap):
        call = action.call
        if call is None:
            continue
        available = {n.casefold() for n in (path.names if path else [])}
        available |= {p.name.casefold() for p in action.inputs or []}
        open_inputs = kind == "mcp" and action.inputs is None
        for key, value in call.with_.items():
            if value.kind != "ref" or value.ref is None:
                continue
            ref = value.ref.casefold()
            if ref != "body" and ref not in available and not open_inputs:
                source = "path variable or declared input" if kind == "rest" else "declared tool input"
                fallback = "it is read from the query string when present, else omitted" if kind == "rest" else "it is always omitted"
                yield _diag("warning", f"with '{key}' refers to '{value.ref}', which names no {source}; {fallback}", call.where)
            if value.prefix != f"{action.adapter}.":
                count, where = prefixed.get(action.adapter, (0, call.where))
                prefixed[action.adapter] = (count + 1, where)
        fillers = available | {k.casefold() for k in call.with_}
        for name in call.operation.path.names:
            if name.casefold() in fillers or open_inputs:
                continue
            if any(p.name.casefold() == name.casefold() and p.value is not None for p in call.operation.params):
                continue
            hint = (f"the operation declares it as an inferred required query parameter '{name}' (export openapi lists it)"
                    if kind == "rest" else "the tool's input schema lists it as a required argument")
            yield _diag(
                "warning",
                f"placeholder '{name}' of {call.operation.method} {call.operation.path.raw} has no source in '{action.name}'; {hint}",
                call.where,
                "unfilled-placeholder",
            )
        if kind == "rest":
            yield from _base_placeholders(cap, action, call, fillers)
    for adapter, (count, where) in prefixed.items():
        yield _diag(
            "warning",
            f"{count} 'with' value(s) in adapter '{adapter}' use references such as 'rest.x' or 'tools.x'; the reference "
            "engine sends these as literal strings, the runtime passes the incoming value x (omitted when absent)",
            where,
            "with-reference-prefix",
        )


def _base_placeholders(cap: m.Capability, action: m.Action, call: m.Call, fillers: set[str]) -> Iterator[Diagnostic]:
    """A base-URI placeholder (bigcommerce's `/stores/{store_hash}/v3`) that no bind and no route value fills."""
    api = call.operation.api
    if api is None:
        return
    filled = fillers | {n.casefold() for n in api.bind_names()} | {k.casefold() for b in cap.binds for k in b.keys}
    for name in PathTemplate.parse(api.base_uri).names:
        if "." in name or name.casefold() in filled:
            continue
        yield _diag(
            "warning",
            f"placeholder '{name}' of baseUri {api.base_uri} has no source in '{action.name}'; the operation declares it "
            f"as an inferred required query parameter '{name}' (export openapi lists it)",
            call.where,
            "unfilled-placeholder",
        )


def _binds(cap: m.Capability) -> Iterator[Diagnostic]:
    if not cap.binds:
        return
    used = {name for api in cap.consumes for name in api.bind_names()}
    used.update(n.split(".")[-1] for api in cap.consumes for n in PathTemplate.parse(api.base_uri).names)  # filled per call
    for adapter in cap.adapters:
        if adapter.auth is not None:
            used.update(n.split(".")[-1] for t in adapter.auth.templates for n in t.names)
    for bind in cap.binds:
        for var in bind.keys:
            if var not in used:
                yield _diag(
                    "warning",
                    f"bind '{bind.namespace}.{var}' is never used (no authentication or parameter refers to it); "
                    "upstream calls are sent without it",
                    bind.where,
                    "unused-bind",
                )


def _base_uris(cap: m.Capability) -> Iterator[Diagnostic]:
    for api in cap.consumes:
        reason = base_uri_problem(api.base_uri)
        if reason:
            yield _diag(
                "warning",
                f"baseUri '{api.base_uri}' of consumes '{api.namespace}' is not a URL ({reason}); calls through it answer 502 "
                f"unless --upstream {api.namespace}=URL replaces it",
                api.where,
                "invalid-base-uri",
            )
