"""One REST operation: request -> Incoming -> Invoker -> response. Kept thin on purpose."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ... import jsonfast
from ...binding.incoming import Incoming, InputError
from ...binding.inputs import extract
from ...invoke.errors import InvokeError
from ...invoke.invoker import Invoker, Outcome
from ...invoke.output import NOTHING
from ...logs import SECRETS, redact_outcome
from ...capability.model import RestOperation, RestResource
from ..auth import Credentials
from .links import rewrite_links

JSON = "application/json"


def error_response(status: int, error: str, message: str, **extra: Any) -> web.Response:
    body = {"error": error, "message": message, **{k: v for k, v in extra.items() if v is not None}}
    return web.Response(status=status, text=json.dumps(body), content_type=JSON)


@dataclass
class OperationHandler:
    resource: RestResource
    operation: RestOperation
    invoker: Invoker
    credentials: Credentials | None
    file: str

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        request["request_id"] = request_id
        request["operation"] = self.operation.action.name
        response = await self.answer(request, request_id)
        response.headers["X-Request-Id"] = request_id
        return response

    async def answer(self, request: web.Request, request_id: str) -> web.Response:
        if self.credentials is not None and not self.credentials.check(request.headers, request.query):
            response = error_response(401, "unauthorized", "missing or invalid credentials")
            response.headers["WWW-Authenticate"] = self.credentials.challenge
            return response
        try:
            incoming = await self.incoming(request, request_id)
            outcome = await self.invoker.invoke(self.operation.action, incoming)
        except InputError as exc:
            return error_response(400, "invalid_input", SECRETS.redact(exc.message), parameter=exc.parameter)
        except InvokeError as exc:
            request["upstream_status"] = None
            response = error_response(exc.status, exc.error, SECRETS.redact(exc.message), upstream=exc.upstream)
            retry_after = getattr(exc, "retry_after", None)
            if retry_after is not None:
                response.headers["Retry-After"] = str(retry_after)
            return response
        request["upstream_status"] = outcome.upstream_status
        if outcome.status >= 400:
            redact_outcome(outcome)  # an upstream may echo the credentials it was sent
        response = self.render(outcome)
        self.pass_headers(request, outcome, response)
        return response

    async def incoming(self, request: web.Request, request_id: str) -> Incoming:
        values: dict[str, Any] = {}
        query = list(request.query.items())
        for key, value in query:
            values.setdefault(key, value)
        values.update(request.match_info)
        body: Any = None
        raw = await request.read() if request.can_read_body else b""
        if raw:
            if request.content_type in (JSON, "") or request.content_type.endswith("+json"):
                try:
                    body = jsonfast.loads(raw)
                except ValueError:
                    raise InputError("request body is not valid JSON", "body") from None
            else:
                body = raw.decode("utf-8", "replace")
            values["body"] = body
        declared = self.operation.action.inputs
        if declared:
            values.update(
                extract(
                    declared,
                    path=request.match_info,
                    query=request.query,
                    headers=request.headers,
                    cookies=request.cookies,
                    body=body,
                )
            )
        return Incoming(
            values=values,
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
                return web.Response(status=outcome.status)
            response = web.Response(status=outcome.status, body=outcome.raw)
            response.content_type = outcome.content_type or "application/octet-stream"
            return response
        if outcome.data is None and outcome.status in (204, 205, 304):
            return web.Response(status=outcome.status)
        if outcome.data is None and not outcome.raw and outcome.upstream is not None:
            return web.Response(status=outcome.status)
        return web.Response(status=outcome.status, body=jsonfast.dumps_bytes(outcome.data), content_type=JSON, charset="utf-8")

    def pass_headers(self, request: web.Request, outcome: Outcome, response: web.Response) -> None:
        for name, value in outcome.headers.items():
            if name == "Link":
                value = rewrite_links(value, request, self.operation, self.resource)
            response.headers[name] = value
