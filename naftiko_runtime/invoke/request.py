"""Build the exact upstream HTTP request for a bound call: URL, query, headers, body."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
from yarl import URL

from ..binding.call_binding import UNSET, BoundCall, as_param_text
from ..binding.incoming import InputError
from ..capability.model import Body
from ..errors import UpstreamError
from ..expressions.paths import PathTemplate
from ..expressions.templates import Template, is_missing, lookup_ci


@dataclass
class UpstreamRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | aiohttp.FormData | None = None
    content_type: str | None = None
    # Where it goes, for the transport layers: the session key (namespace@base), the consumed
    # operation ("namespace.operation", as errors name it) and its parts (for metrics and spans).
    pool_key: str = ""
    upstream: str = ""
    namespace: str = ""
    operation: str = ""
    middlewares: tuple[Any, ...] = ()  # aiohttp client middlewares (digest auth)


def encode_segment(value: Any) -> str:
    """Percent-encode a path value as exactly one segment: no `/`, `?`, `#`, CR/LF or dot-segments."""
    text = quote(as_param_text(value), safe="")
    if text in (".", ".."):
        text = text.replace(".", "%2E")
    return text


def join_url(base: str, path: str) -> str:
    """Exactly one `/` between base and path, whichever side has it."""
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


# An origin, its scheme maybe a placeholder (`{scheme}://{host}/api/v9`).
_ORIGIN = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*|\{\{[^{}]+\}\}|\{[^{}]+\})://[^/?#]*")


def override_base(base: str, override: str) -> str:
    """`--upstream ns=URL`: a URL with a path replaces the base; one without keeps the base's path.

    A base that is one placeholder (`{{env.WIREMOCK_BASE_URL}}`) is replaced wholly; one whose origin is a
    placeholder (`{{env.RUNDECK_URL}}/api/58`) has that placeholder replaced and keeps its path; the base's
    origin is never parsed (`http://[array]/api` keeps `/api`), so no base can make this fail."""
    new = urlsplit(override)
    template = _base_template(base)
    if new.path not in ("", "/") or (len(template.parts) == 1 and isinstance(template.parts[0], tuple)):
        return override.rstrip("/")
    origin = _ORIGIN.match(base)
    if origin:
        path = base[origin.end():]
    elif _placeholder_origin(template):
        path = "".join(p if isinstance(p, str) else template_text(p) for p in template.parts[1:])
    else:
        path = base
    path = path.split("?")[0].split("#")[0]
    return f"{new.scheme}://{new.netloc}{path}".rstrip("/")


def _placeholder_origin(template: PathTemplate) -> bool:
    """`{{env.BASE_URL}}/api/58`: the leading placeholder stands for the whole origin (scheme and host)."""
    parts = template.parts
    return len(parts) > 1 and isinstance(parts[0], tuple) and isinstance(parts[1], str) and parts[1].startswith("/")


def template_text(part: tuple[str]) -> str:
    """A placeholder written back as `{{name}}`, for a base that keeps it to fill per call."""
    return "{{" + part[0] + "}}"


# Literal path text from the file: keep its structure and existing %-escapes, encode the rest.
_PATH_SAFE = "/%:@!$&'()*+,;=?"


@functools.lru_cache(maxsize=1024)
def _literal_path(part: str) -> str:
    """A literal part of a consumed path, encoded once per distinct text, not once per request."""
    return quote(part, safe=_PATH_SAFE)


def render_path(bound: BoundCall) -> str:
    parts = bound.operation.path.sent_parts
    if len(parts) == 1 and not isinstance(parts[0], tuple):
        return _literal_path(parts[0])
    out = []
    for part in parts:
        if isinstance(part, tuple):
            out.append(encode_segment(bound.path_values[part[0]]))
        else:
            out.append(_literal_path(part))
    return "".join(out)


def _render_tree(data: Any, ctx: Any) -> Any:
    if isinstance(data, Template):
        return data.render_value(ctx)
    if isinstance(data, dict):
        return {k: _render_tree(v, ctx) for k, v in data.items()}
    if isinstance(data, list):
        return [_render_tree(v, ctx) for v in data]
    return data


_TEXT_TYPES = {"text": "text/plain", "xml": "application/xml", "sparql": "application/sparql-query"}


def render_body(spec: Body, ctx: Any) -> tuple[bytes | aiohttp.FormData, str | None]:
    """Render a consumed `body:` of any alpha2 form with its content type."""
    if spec.kind == "raw":
        template: Template = spec.data
        text = template.render(ctx)
        if template.mode == "json":
            try:
                json.loads(text)
            except ValueError as exc:
                raise ValueError(f"the body template did not render to JSON: {exc}") from None
            return text.encode(), "application/json"
        return text.encode(), spec.content_type or "text/plain; charset=utf-8"
    if spec.kind == "json":
        return json.dumps(_render_tree(spec.data, ctx), separators=(",", ":")).encode(), "application/json"
    if spec.kind in _TEXT_TYPES:
        return spec.data.render(ctx).encode(), _TEXT_TYPES[spec.kind]
    if spec.kind == "formUrlEncoded":
        if isinstance(spec.data, Template):
            return spec.data.render(ctx).encode(), "application/x-www-form-urlencoded"
        pairs = [(k, v.render(ctx)) for k, v in spec.data.items()]
        return urlencode(pairs).encode(), "application/x-www-form-urlencoded"
    form = aiohttp.FormData()
    for part in spec.data:
        form.add_field(
            part["name"], part["value"].render(ctx), filename=part["filename"], content_type=part["contentType"]
        )
    return form, None


_BASE_VALUE = re.compile(r"^[A-Za-z0-9._~:-]+$")


@functools.lru_cache(maxsize=256)
def _base_template(base: str) -> PathTemplate:
    """A base URI split into text and placeholders once per distinct base, not once per request."""
    return PathTemplate.parse(base)


def render_base(base: str, bound: BoundCall, env: Mapping[str, str] | None = None) -> str:
    """Fill placeholders of a templated baseUri (a tolerated dialect) from binds and call values, then
    `env` (the environment captured at load)."""
    if not base:
        op = bound.operation
        raise BaseUriMissing(op.namespace, f"{op.namespace}.{op.name}")
    template = _base_template(base)
    if not template.names:
        return base
    out = []
    for part in template.parts:
        if not isinstance(part, tuple):
            out.append(part)
            continue
        name = part[0]
        value = lookup_ci(bound.context, name)
        if is_missing(value) or value in (None, ""):
            value = (env or {}).get(name.split(".")[-1])
        if value in (None, ""):
            raise InputError(f"missing value for '{name}' in baseUri {base}", name)
        text = as_param_text(value)
        whole = len(template.parts) == 1 or (part is template.parts[0] and _placeholder_origin(template))
        if not (whole and text.startswith(("http://", "https://"))) and not _BASE_VALUE.match(text):
            raise InputError(f"value for '{name}' in baseUri {base} must be a host or path segment", name)
        out.append(text)
    return "".join(out)


class BaseUriMissing(UpstreamError):
    """A namespace without an upstream: its baseUri is empty and no --upstream names one (502 `no_upstream`)."""

    def __init__(self, namespace: str, upstream: str) -> None:
        super().__init__(502, "no_upstream", f"consumes '{namespace}' has an empty baseUri; start with --upstream {namespace}=URL", upstream)
        self.namespace = namespace


class BaseUriInvalid(UpstreamError):
    """A base URI that does not parse as a URL (`http://[array]`): 502 `invalid_upstream`."""

    def __init__(self, namespace: str, base: str, reason: str, upstream: str) -> None:
        super().__init__(502, "invalid_upstream", f"consumes '{namespace}' has a baseUri that is not a URL ({base}: {reason}); "
                         f"start with --upstream {namespace}=URL", upstream)
        self.namespace = namespace


@functools.lru_cache(maxsize=256)
def _normal_base(base_uri: str) -> str:
    """The base URI as yarl normalises it (parsed once per distinct base, not once per request)."""
    return str(URL(base_uri))


def build_request(bound: BoundCall, base_uri: str, env: Mapping[str, str] | None = None) -> UpstreamRequest:
    op = bound.operation
    base_uri = render_base(base_uri, bound, env)
    # The URL is built fully encoded and sent as is (see client): yarl must not re-decode `%2E%2E` into `..`.
    try:
        normal = _normal_base(base_uri)
    except ValueError as exc:
        raise BaseUriInvalid(op.namespace, base_uri, str(exc), f"{op.namespace}.{op.name}") from None
    if not normal.startswith(("http://", "https://")):
        raise BaseUriInvalid(op.namespace, base_uri, "not an http(s) URL", f"{op.namespace}.{op.name}")
    url = join_url(normal, render_path(bound))
    if bound.query:
        url += ("&" if "?" in url else "?") + urlencode(bound.query)
    req = UpstreamRequest(op.method, url, dict(bound.headers))
    if bound.cookies:
        req.headers["Cookie"] = "; ".join(f"{k}={quote(v, safe='')}" for k, v in bound.cookies.items())
    if op.body is not None:
        req.body, req.content_type = render_body(op.body, bound.context)
    elif bound.body is not UNSET and bound.body is not None:
        if isinstance(bound.body, (bytes, bytearray)):
            req.body, req.content_type = bytes(bound.body), "application/octet-stream"
        else:
            req.body = json.dumps(bound.body, separators=(",", ":")).encode()
            req.content_type = "application/json"
    if req.content_type:
        req.headers["Content-Type"] = req.content_type
    return req
