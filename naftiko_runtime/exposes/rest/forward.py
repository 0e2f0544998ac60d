"""The REST side of a `forward` resource: every method on its path passes through upstream.

The resource's last path placeholder takes the rest of the path, slashes included
(`/notion/{{path}}` serves `/notion/users/me`). Operations declared on the same
resource answer first, as in the reference; the exposed adapter's `authentication`
applies to forwarded requests too. The upstream's status, body, content type and
ETag/Location/Link/Retry-After come back as they are, with every secret redacted.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ...capability.model import RestResource
from ...errors import NaftikoError
from ...expressions.paths import PathTemplate
from ...invoke.forward import Passthrough, send_forward
from ...invoke.invoker import PASSED_HEADERS, Invoker
from ...logs import SECRETS
from ..auth import Credentials
from ..errors import error_response, failure_response, unauthorized
from ..headers import header_values, repeated_host
from ..headers import request_id as safe_request_id
from .handler import check_utf8


def forward_route(path: PathTemplate) -> tuple[str, str | None]:
    """(the aiohttp route, the placeholder holding the rest of the path, if the path ends in one)."""
    last = path.parts[-1] if path.parts else None
    if not isinstance(last, tuple):
        return path.route, None
    head = "".join(f"{{{p[0]}}}" if isinstance(p, tuple) else p for p in path.parts[:-1])
    return f"{head}{{{last[0]}:.*}}", last[0]


@dataclass
class ForwardHandler:
    resource: RestResource
    invoker: Invoker
    credentials: Credentials | None
    tail: str | None

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        given = header_values(request.raw_headers, b"x-request-id")
        request_id = safe_request_id(given[0] if given else None)
        request["request_id"] = request_id
        assert self.resource.forward is not None
        request["operation"] = f"forward:{self.resource.forward.target_namespace}"
        response = await self.answer(request, request_id)
        response.headers["X-Request-Id"] = request_id
        return response

    async def answer(self, request: web.Request, request_id: str) -> web.Response:
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
                tail=(request.match_info.get(self.tail, "") if self.tail else "").lstrip("/"),
                query=list(request.query.items()),
                headers=request.headers,
                body=body or None,
                content_type=request.headers.get("Content-Type"),
                request_id=request_id,
            )
            answer = await send_forward(self.invoker, forward, call)
        except NaftikoError as exc:
            return failure_response(exc)
        request["upstream_status"] = answer.status
        response = web.Response(status=answer.status, body=SECRETS.redact_bytes(answer.body) if answer.body else None)
        if answer.body and answer.content_type:
            response.headers["Content-Type"] = answer.headers.get("Content-Type", answer.content_type)
        for name in PASSED_HEADERS:
            if name in answer.headers:
                response.headers[name] = SECRETS.redact(answer.headers[name])
        if "Location" in response.headers:
            response.headers["Location"] = self.location(request, response.headers["Location"])
        return response

    def location(self, request: web.Request, value: str) -> str:
        """An upstream `Location` below the namespace's base URI, as the same place on this server."""
        assert self.resource.forward is not None
        base = self.invoker.base_uri(self.resource.forward.target_namespace).rstrip("/")
        if not base or not (value == base or value.startswith(base + "/")):
            return value
        tail = request.match_info.get(self.tail, "") if self.tail else ""
        prefix = request.path[: len(request.path) - len(tail)] if tail else request.path
        return prefix.rstrip("/") + "/" + value[len(base) :].lstrip("/")
