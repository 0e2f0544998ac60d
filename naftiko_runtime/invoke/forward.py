"""A `forward` resource: pass a request through to a consumed namespace, as the reference does.

The upstream request is the consumed namespace's base URI joined with the rest of the
caller's path (and the caller's query, which the reference drops). It carries the
caller's method and body, the caller's values of the resource's `trustedHeaders` only,
then the namespace's own `inputParameters` that have a `value` (headers and query, bound
values rendered) and its `authentication`. A caller can never replace a declared value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from ..binding.call_binding import as_param_text
from ..capability.model import Forward
from ..errors import InputError, UpstreamError
from .auth import apply_auth
from .invoker import Invoker
from .request import UpstreamRequest, join_url
from .transport import UpstreamResponse


@dataclass
class Passthrough:
    """What the caller sent, as the forward handler read it."""

    method: str
    tail: str  # the rest of the path, percent-decoded, without a leading '/'
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes | None
    content_type: str | None
    request_id: str | None = None


def encode_tail(tail: str) -> str:
    """Each segment percent-encoded; dot-segments are refused (they would climb above the base URI)."""
    segments = tail.split("/")
    if any(s in (".", "..") for s in segments):
        raise InputError(f"the forwarded path '{tail[:200]}' holds a '.' or '..' segment", "path")
    return "/".join(quote(s, safe="!$&'()*+,;=:@") for s in segments)


def build_forward(invoker: Invoker, forward: Forward, call: Passthrough) -> UpstreamRequest:
    """The upstream request for `call` (raises UpstreamError 502 when the namespace has no base URI)."""
    namespace = forward.target_namespace
    base = invoker.base_uri(namespace)
    if not base:
        raise UpstreamError(502, "no_upstream", f"consumes '{namespace}' has an empty baseUri; start with --upstream {namespace}=URL", namespace)
    url = join_url(base, encode_tail(call.tail)) if call.tail else base
    headers: dict[str, str] = {}
    trusted = {h.lower() for h in forward.trusted_headers}
    for name, value in call.headers.items():
        if name.lower() in trusted and not any(c in value for c in "\r\n\x00"):
            headers[name] = value
    query = list(call.query)
    api = invoker.capability.api(namespace)
    for param in api.params if api else []:
        if param.value is None:
            continue
        value = as_param_text(param.value.render_value(invoker.bind_context))
        if param.location == "header":
            for existing in [k for k in headers if k.lower() == param.name.lower()]:
                del headers[existing]
            headers[param.name] = value
        elif param.location == "query":
            query = [(k, v) for k, v in query if k != param.name] + [(param.name, value)]
    if query:
        url += "?" + urlencode(query)
    if call.request_id:
        headers.setdefault("X-Request-Id", call.request_id)
    if call.body and call.content_type:
        headers["Content-Type"] = call.content_type
    return UpstreamRequest(call.method, url, headers, call.body or None, call.content_type if call.body else None)


async def send_forward(invoker: Invoker, forward: Forward, call: Passthrough) -> UpstreamResponse:
    """Send the pass-through request; upstream faults raise UpstreamError (502/504) as for any call."""
    request = build_forward(invoker, forward, call)
    namespace = forward.target_namespace
    api = invoker.capability.api(namespace)
    request.middlewares = tuple(apply_auth(api.auth if api else None, request, invoker.bind_context))
    request.pool_key, request.upstream = f"{namespace}@{invoker.base_uri(namespace)}", f"{namespace} (forward)"
    request.namespace, request.operation = namespace, "forward"
    return await invoker.transport.send(request)
