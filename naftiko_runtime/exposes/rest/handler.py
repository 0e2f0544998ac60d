"""One REST operation: request -> Incoming -> Invoker -> response. Kept thin on purpose.

What a caller sends is taken as sent or refused with 400, never silently altered: a body
that is not strict JSON (NaN, Infinity, 1e999, nesting beyond the parser's bound), a query
or path whose percent-escapes are not UTF-8, two `Host` headers. A query parameter named
like a path variable (any case) is dropped from the values a path placeholder may read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import web

from ... import jsonfast
from ...binding.incoming import Incoming, InputError
from ...binding.inputs import extract
from ...capability.model import RestOperation, RestResource
from ...errors import NaftikoError
from ...invoke.invoker import Invoker, Outcome
from ...invoke.output import NOTHING
from ...logs import ACCESS_LOG, SECRETS, redact_outcome
from ..auth import Credentials
from ..errors import JSON, error_response, failure_response, unauthorized
from ..headers import header_values, repeated_host
from ..headers import request_id as safe_request_id
from .links import rewrite_links
from .redirects import LocationRewriter, adapter_of, build_targets
from .request import Exchange, RequestView

__all__ = ["JSON", "OperationHandler", "error_response"]


def request_id_of(request: RequestView) -> str:
    """The caller's `X-Request-Id` made safe, else a new one (the same rule as the MCP adapter's)."""
    given = header_values(request.raw_headers, b"x-request-id")
    return safe_request_id(given[0] if given else None)


def _reason(exc: ValueError) -> str:
    return str(exc.args[0] if exc.args else exc)[:200]


def check_utf8(request: RequestView) -> None:
    """Refuse a path or query whose percent-escapes do not decode as UTF-8 (aiohttp would put U+FFFD in their place)."""
    raw = request.raw_path
    if "%" not in raw:
        return
    path, _, query = raw.partition("?")
    for segment in path.split("/"):
        _utf8(segment, "path segment", segment)
    for pair in query.partition("#")[0].split("&"):
        name, _, value = pair.partition("=")
        _utf8(name, "query parameter name", name)
        _utf8(value, f"query parameter '{name}'", name)


def _utf8(raw: str, what: str, name: str) -> None:
    if "%" not in raw:
        return
    try:
        unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 once percent-decoded ({raw[:80]}); undecodable bytes are refused", name) from None


@dataclass
class OperationHandler:
    resource: RestResource
    operation: RestOperation
    invoker: Invoker
    credentials: Credentials | None
    file: str
    locations: LocationRewriter = field(init=False)
    log_fields: tuple[dict[str, Any], str] = field(init=False)

    def __post_init__(self) -> None:
        adapter = adapter_of(self.resource, self.invoker.capability.adapters)
        self.locations = LocationRewriter(build_targets(adapter) if adapter else [], self.operation)
        route = (self.operation.path or self.resource.path).route
        # The access-log fields of this route, formatted once (`ACCESS_LOG.write` adds the per-request ones).
        self.log_fields = ACCESS_LOG.bind({"adapter": "rest", "method": self.operation.method, "route": route, "operation": self.operation.action.name})

    async def __call__(self, request: RequestView, exchange: Exchange) -> web.StreamResponse:
        request_id = exchange.request_id = request_id_of(request)
        response = self.refusal(request)
        if response is None:
            try:
                incoming = await self.incoming(request, exchange.params, request_id)
                outcome = await self.invoker.invoke(self.operation.action, incoming)
            except NaftikoError as exc:
                response = failure_response(exc)
            else:
                exchange.upstream_status = outcome.upstream_status
                response = self.answer(request, exchange.params, outcome)
        response.headers["X-Request-Id"] = request_id
        return response

    def refusal(self, request: RequestView) -> web.Response | None:
        """The answer to a request refused before any input is read, else None."""
        if repeated_host(request.raw_headers):
            return error_response(400, "invalid_request", "more than one Host header")
        if self.credentials is not None and not self.credentials.check(request.headers, request.query):
            return unauthorized(self.credentials.challenge)
        return None

    def answer(self, request: RequestView, path: dict[str, str], outcome: Outcome) -> web.Response:
        """The response to an outcome (`path`: the routed path values under their declared names)."""
        # An upstream may echo the credentials it was sent: in an error body, or in any header (a redirect's Location).
        if outcome.status >= 300:
            redact_outcome(outcome)
        elif outcome.headers:
            outcome.headers = {k: SECRETS.redact(v) for k, v in outcome.headers.items()}
        location, elsewhere = self.location(path, outcome)
        if outcome.is_redirect and location is None:
            where = f"upstream {outcome.upstream} " if outcome.upstream else "upstream "
            target = f"to {elsewhere}" if elsewhere else "to an address this API does not expose"
            message = f"{where}answered {outcome.status}, a redirect {target}; redirects are not followed"
            return error_response(502, "upstream_redirect", message, upstream=outcome.upstream)
        if outcome.status >= 400:
            response = web.Response(status=outcome.status, body=jsonfast.dumps_bytes(outcome.error_json()), content_type=JSON, charset="utf-8")
        elif outcome.is_redirect:
            response = web.Response(status=outcome.status)
        else:
            response = self.render(outcome)
        self.pass_headers(request, path, outcome, response)
        if location is not None:
            response.headers["Location"] = location
        return response

    def location(self, path: dict[str, str], outcome: Outcome) -> tuple[str | None, str | None]:
        """(the upstream's redacted `Location` as this server may relay it, or None; the other origin a redirect points to)."""
        value = outcome.headers.pop("Location", None)
        if not value or not outcome.upstream_url:
            return None, None
        call = self.operation.action.call
        base = self.invoker.base_uri(call.operation.namespace) if call is not None else ""
        rewritten, same_origin = self.locations.rewrite(value, outcome.upstream_url, base, path)
        if outcome.is_redirect and not same_origin:
            return None, value  # already redacted with the outcome
        return rewritten, None

    async def incoming(self, request: RequestView, path: dict[str, str], request_id: str) -> Incoming:
        """`path`: the routed path values under the names the file declares."""
        check_utf8(request)
        values: dict[str, Any] = {}
        query = list(request.query.items())
        if query:
            routed = {k.casefold() for k in path}
            for key, value in query:
                if key.casefold() not in routed:  # a path value is never replaced from the query
                    values.setdefault(key, value)
        if path:
            values.update(path)
        body: Any = None
        raw = await request.read() if request.can_read_body else b""
        if raw:
            if request.content_type in (JSON, "") or request.content_type.endswith("+json"):
                try:
                    body = jsonfast.loads(raw, strict=True)
                except ValueError as exc:
                    raise InputError(f"request body is not valid JSON: {_reason(exc)}", "body") from None
            else:
                body = raw.decode("utf-8", "replace")
            values["body"] = body
        declared = self.operation.action.inputs
        if declared:
            values.update(
                extract(
                    declared,
                    path=path,
                    query=request.query,
                    headers=request.headers,
                    cookies=request.cookies,
                    body=body,
                )
            )
        return Incoming(
            values=values,
            path=path,
            body=body,
            raw_body=raw or None,
            content_type=request.content_type,
            headers=request.headers,
            query=query,
            cookies=request.cookies,
            origin="rest",
            request_id=request_id,
            forward_query=declared is None,
        )

    @staticmethod
    def render(outcome: Outcome) -> web.Response:
        if outcome.data is NOTHING:
            if not outcome.raw:
                return web.Response(status=_no_content(outcome.status))
            content_type = outcome.content_type or "application/octet-stream"
            if "charset" in content_type:  # aiohttp takes a charset only through the setter
                response = web.Response(status=outcome.status, body=outcome.raw)
                response.content_type = content_type
                return response
            return web.Response(status=outcome.status, body=outcome.raw, content_type=content_type)
        if outcome.data is None and outcome.status in (204, 205, 304):
            return web.Response(status=outcome.status)
        if outcome.data is None and not outcome.raw and outcome.upstream is not None:
            return web.Response(status=_no_content(outcome.status))
        return web.Response(status=outcome.status, body=jsonfast.dumps_bytes(outcome.data), content_type=JSON, charset="utf-8")

    def pass_headers(self, request: RequestView, path: dict[str, str], outcome: Outcome, response: web.Response) -> None:
        for name, value in outcome.headers.items():
            if name == "Link":
                value = rewrite_links(value, request, self.operation, self.resource, path)
            response.headers[name] = value


def _no_content(status: int) -> int:
    """An empty 200 is relayed as the 204 it means: the exported document gives every 200 a JSON body."""
    return 204 if status == 200 else status
