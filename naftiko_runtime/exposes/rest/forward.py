"""The REST side of a `forward` resource: every method on its path passes through upstream.

The resource's last path placeholder takes the rest of the path, slashes included
(`/notion/{{path}}` serves `/notion/users/me`). Operations declared on the same
resource answer first, as in the reference; the exposed adapter's `authentication`
applies to forwarded requests too. The upstream's status, body, content type and
ETag/Location/Link/Retry-After come back as they are, with every secret redacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ...capability.model import RestResource
from ...errors import NaftikoError
from ...invoke.forward import Passthrough, send_forward
from ...invoke.invoker import PASSED_HEADERS, Invoker
from ...logs import ACCESS_LOG, SECRETS
from ..auth import Credentials
from ..errors import error_response, failure_response, unauthorized
from ..headers import repeated_host
from .handler import check_utf8, request_id_of
from .request import Exchange, RequestView

_USUAL = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass
class ForwardHandler:
    resource: RestResource
    invoker: Invoker
    credentials: Credentials | None
    tail: str | None  # the placeholder holding the rest of the path, if the path ends in one
    route: str  # as the access log shows it
    log_fields: tuple[dict[str, Any], str] | None = field(init=False, default=None)  # bound per method below
    _bound: dict[str, tuple[dict[str, Any], str]] = field(init=False, default_factory=dict)

    def fields(self, method: str) -> tuple[dict[str, Any], str]:
        """The access-log fields for `method`, bound once for the usual methods (any token is a method)."""
        bound = self._bound.get(method)
        if bound is None:
            assert self.resource.forward is not None
            bound = ACCESS_LOG.bind({"adapter": "rest", "method": method, "route": self.route,
                                     "operation": f"forward:{self.resource.forward.target_namespace}"})
            if method in _USUAL:
                self._bound[method] = bound
        return bound

    async def __call__(self, request: RequestView, exchange: Exchange) -> web.StreamResponse:
        exchange.log_fields = self.fields(request.method)
        request_id = exchange.request_id = request_id_of(request)
        response = await self.answer(request, exchange, request_id)
        response.headers["X-Request-Id"] = request_id
        return response

    async def answer(self, request: RequestView, exchange: Exchange, request_id: str) -> web.Response:
        forward = self.resource.forward
        assert forward is not None
        if repeated_host(request.raw_headers):
            return error_response(400, "invalid_request", "more than one Host header")
        if self.credentials is not None and not self.credentials.check(request.headers, request.query):
            return unauthorized(self.credentials.challenge)
        try:
            check_utf8(request)
            body = await request.read() if request.can_read_body else b""
            call = Passthrough(
                method=request.method,
                tail=(exchange.params.get(self.tail, "") if self.tail else "").lstrip("/"),
                query=list(request.query.items()),
                headers=request.headers,
                body=body or None,
                content_type=request.headers.get("Content-Type"),
                request_id=request_id,
            )
            answer = await send_forward(self.invoker, forward, call)
        except NaftikoError as exc:
            return failure_response(exc)
        exchange.upstream_status = answer.status
        response = web.Response(status=answer.status, body=SECRETS.redact_bytes(answer.body) if answer.body else None)
        if answer.body and answer.content_type:
            response.headers["Content-Type"] = answer.headers.get("Content-Type", answer.content_type)
        for name in PASSED_HEADERS:
            if name in answer.headers:
                response.headers[name] = SECRETS.redact(answer.headers[name])
        if "Location" in response.headers:
            response.headers["Location"] = self.location(request, exchange.params, response.headers["Location"])
        return response

    def location(self, request: RequestView, params: dict[str, str], value: str) -> str:
        """An upstream `Location` below the namespace's base URI, as the same place on this server."""
        assert self.resource.forward is not None
        base = self.invoker.base_uri(self.resource.forward.target_namespace).rstrip("/")
        if not base or not (value == base or value.startswith(base + "/")):
            return value
        tail = params.get(self.tail, "") if self.tail else ""
        prefix = request.path[: len(request.path) - len(tail)] if tail else request.path
        return prefix.rstrip("/") + "/" + value[len(base) :].lstrip("/")
