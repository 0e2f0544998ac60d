"""The cross-cutting layers of a REST port, each a plain wrapper around the next handler.

`app.build_handler` composes them in one place (first outermost):

    access log -> CORS -> JSON errors -> Expect: 100-continue -> body deadline -> dispatch

A layer that is off is not in the chain. Each takes the request and its `Exchange` (the
record the dispatch and the plan fill, which the access log reads) and returns the response
to await. A layer with nothing to do for a request (no `Expect`, no body, no allowed
`Origin`) hands back the next handler's awaitable itself, so it adds no coroutine frame
that every resumption of the request would pass through.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11

from ...logs import ACCESS_LOG, LOGGER
from ..cors import CorsPolicy
from ..errors import error_response
from .request import Exchange

Handler = Callable[[web.BaseRequest, Exchange], Awaitable[web.StreamResponse]]


def access_log(inner: Handler) -> Handler:
    """One line per request (nothing at all when the level is above `info`)."""

    async def logged(request: web.BaseRequest, exchange: Exchange) -> web.StreamResponse:
        if not LOGGER.isEnabledFor(logging.INFO):
            return await inner(request, exchange)
        start = time.perf_counter()
        status = 500
        try:
            response = await inner(request, exchange)
            status = response.status
            return response
        finally:
            # A route's own fields were bound once at load; an unrouted request's now.
            bound = exchange.log_fields or ACCESS_LOG.bind({"adapter": "rest", "method": request.method, "route": request.path, "operation": None})
            ACCESS_LOG.write(bound, status, exchange.upstream_status, round((time.perf_counter() - start) * 1000, 2), exchange.request_id)

    return logged


def cors(inner: Handler, policy: CorsPolicy) -> Handler:
    """A preflight from an allowed origin is answered here; every other answer to it gets the CORS headers."""

    def with_cors(request: web.BaseRequest, exchange: Exchange) -> Awaitable[web.StreamResponse]:
        origin = request.headers.get("Origin")
        if not policy.allows(origin):
            return inner(request, exchange)
        assert origin is not None
        return answered(request, exchange, origin)

    async def answered(request: web.BaseRequest, exchange: Exchange, origin: str) -> web.StreamResponse:
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            headers = policy.preflight_headers(origin, request.headers.get("Access-Control-Request-Headers"))
            return web.Response(status=204, headers=headers)
        try:
            response = await inner(request, exchange)
        except web.HTTPException as exc:
            exc.headers.update(policy.response_headers(origin))
            raise
        if not response.prepared:
            response.headers.update(policy.response_headers(origin))
        return response

    return with_cors


def json_errors(inner: Handler) -> Handler:
    """aiohttp's own refusals (a body over the limit) as the JSON error body."""

    def errors(request: web.BaseRequest, exchange: Exchange) -> Awaitable[web.StreamResponse]:
        if not request.body_exists:  # only reading a body raises them
            return inner(request, exchange)
        return caught(request, exchange)

    async def caught(request: web.BaseRequest, exchange: Exchange) -> web.StreamResponse:
        try:
            return await inner(request, exchange)
        except web.HTTPRequestEntityTooLarge as exc:
            return error_response(413, "payload_too_large", exc.text or "request body too large")

    return errors


def expect_within(inner: Handler, max_body: int, interim: bool = True) -> Handler:
    """`Expect: 100-continue`: 413 at once for a declared body over `max_body`, else `100 Continue`.

    `interim=False`: the server sends `100 Continue` itself when the body is first read (granian)."""

    def expect(request: web.BaseRequest, exchange: Exchange) -> Awaitable[web.StreamResponse]:
        if not request.headers.get(hdrs.EXPECT):
            return inner(request, exchange)
        return expected(request, exchange)

    async def expected(request: web.BaseRequest, exchange: Exchange) -> web.StreamResponse:
        length = request.content_length
        if length is not None and length > max_body:
            response = error_response(413, "payload_too_large", f"request body exceeds the {max_body}-byte limit (--max-body)")
            response.force_close()  # the client may send the body anyway: do not read it
            return response
        if interim and request.version == HttpVersion11:
            value = request.headers.get(hdrs.EXPECT, "")
            if value.lower() != "100-continue":
                return error_response(417, "expectation_failed", f"unknown Expect: {value}")
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0  # the response proper has not started
            await request.writer.drain()
        return await inner(request, exchange)

    return expect


class BodyStalled(Exception):
    """Set on a request's body stream when the client stops sending it."""


class _BodyWatch:
    """Every `timeout` seconds, checks that the body stream received bytes; if not, fails it."""

    def __init__(self, request: web.BaseRequest, timeout: float) -> None:
        self.content = request.content
        self.timeout = timeout
        self.seen = self.content.total_bytes
        self.handle = asyncio.get_running_loop().call_later(timeout, self.check)

    def check(self) -> None:
        content = self.content
        if content.is_eof():
            return
        if content.total_bytes == self.seen:
            content.set_exception(BodyStalled())
            return
        self.seen = content.total_bytes
        self.handle = asyncio.get_running_loop().call_later(self.timeout, self.check)

    def cancel(self) -> None:
        self.handle.cancel()


def body_deadline(inner: Handler, timeout: float) -> Handler:
    """408 and close when a request body still arriving pauses for `timeout` seconds."""

    def watched(request: web.BaseRequest, exchange: Exchange) -> Awaitable[web.StreamResponse]:
        if not request.body_exists or request.content.is_eof():
            return inner(request, exchange)
        return within(request, exchange)

    async def within(request: web.BaseRequest, exchange: Exchange) -> web.StreamResponse:
        watch = _BodyWatch(request, timeout)
        try:
            return await inner(request, exchange)
        except BodyStalled:
            response = error_response(408, "request_timeout", f"the request body paused longer than {timeout} s (--body-timeout)")
            response.force_close()
            return response
        finally:
            watch.cancel()

    return watched
