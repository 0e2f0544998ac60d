"""The REST server for one port: the spec's routes, exactly as declared.

Routes come straight from the capability (Connexion-style): each exposed resource
path and method becomes an aiohttp route whose handler is an OperationHandler.
Unknown paths answer 404 and known paths with another method 405 with `Allow`,
both as JSON. Adapters of several files may share one port; two routes that collide
are refused at start with both files and lines.

A body larger than `max_body` is refused with 413 before `100 Continue` is sent (the
routes' expect handler), and one that pauses longer than `body_timeout` ends with 408
and a closed connection (the `body_deadline` middleware).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11

from ...capability.model import RestAdapter
from ...invoke.invoker import Invoker
from ...limits import DEFAULT_MAX_BODY
from ...logs import ACCESS_LOG, LOGGER
from ..auth import Credentials
from ..cors import REST_EXPOSED, CorsPolicy, rest_cors
from ..health import add_health_routes
from .forward import ForwardHandler, forward_route
from .handler import OperationHandler, error_response
from .routing import Route, route_key, route_of, specificity

Readiness = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]


class RouteConflict(Exception):
    pass


@dataclass
class Mounted:
    adapter: RestAdapter
    invoker: Invoker


@web.middleware
async def json_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as exc:
        response = error_response(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}; allowed: {', '.join(sorted(exc.allowed_methods))}")
        response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        return response
    except web.HTTPNotFound:
        return error_response(404, "not_found", f"no route for {request.path}")
    except web.HTTPRequestEntityTooLarge as exc:
        return error_response(413, "payload_too_large", exc.text or "request body too large")


@web.middleware
async def access_log(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    if not LOGGER.isEnabledFor(logging.INFO):
        return await handler(request)
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        # A route's own fields were bound once when its handler was built (OperationHandler.log_fields).
        bound = request.get("log_fields") or ACCESS_LOG.bind(_unrouted_fields(request))
        ACCESS_LOG.write(bound, status, request.get("upstream_status"), round((time.perf_counter() - start) * 1000, 2), request.get("request_id"))


def _unrouted_fields(request: web.Request) -> dict[str, Any]:
    resource = request.match_info.route.resource
    return {"adapter": "rest", "method": request.method, "route": resource.canonical if resource else request.path,
            "operation": request.get("operation")}


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ExpectHandler = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


def expect_within(max_body: int) -> ExpectHandler:
    """`Expect: 100-continue`: 413 at once for a declared body over `max_body`, else `100 Continue`."""

    async def expect_handler(request: web.Request) -> web.StreamResponse | None:
        length = request.content_length
        if length is not None and length > max_body:
            response = error_response(413, "payload_too_large", f"request body exceeds the {max_body}-byte limit (--max-body)")
            response.force_close()  # the client may send the body anyway: do not read it
            return response
        if request.version == HttpVersion11:
            expect = request.headers.get(hdrs.EXPECT, "")
            if expect.lower() != "100-continue":
                return error_response(417, "expectation_failed", f"unknown Expect: {expect}")
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0  # the response proper has not started
        return None

    return expect_handler


class BodyStalled(Exception):
    """Set on a request's body stream when the client stops sending it."""


class _BodyWatch:
    """Every `timeout` seconds, checks that the body stream received bytes; if not, fails it."""

    def __init__(self, request: web.Request, timeout: float) -> None:
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


def body_deadline(timeout: float) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """408 and close when a request body still arriving pauses for `timeout` seconds (0: never)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if timeout <= 0 or not request.body_exists or request.content.is_eof():
            return await handler(request)
        watch = _BodyWatch(request, timeout)
        try:
            return await handler(request)
        except BodyStalled:
            response = error_response(408, "request_timeout", f"the request body paused longer than {timeout} s (--body-timeout)")
            response.force_close()
            return response
        finally:
            watch.cancel()

    return middleware


class SwappableRoutes:
    """The routes of a server that `--watch` may replace while it serves.

    The server's application has one catch-all route whose handler resolves the request
    against the current route table (an application that is never started itself) and
    runs what it finds, as `Application._handle` would. `swap` replaces the table in one
    assignment: requests already running keep the handler (and invoker) they started with,
    new ones see the new routes; connections are never touched.
    """

    def __init__(self, routes: web.Application) -> None:
        self.routes = routes

    def swap(self, routes: web.Application) -> None:
        self.routes = routes

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        match = await self.routes.router.resolve(request)
        match.add_app(request.app)
        match.freeze()
        # What aiohttp's Application._handle does after resolving; `match_info` is cached on first read.
        request._match_info = match
        request._cache.pop("match_info", None)
        if match.http_exception is not None:
            raise match.http_exception
        return await match.handler(request)


ROUTES = web.AppKey("naftiko_routes", SwappableRoutes)


def build_rest_app(
    mounted: list[Mounted],
    readiness: Readiness,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    body_timeout: float = 30.0,
    log_requests: bool = True,
    swappable: bool = False,
    cors_origins: list[str] | None = None,
) -> web.Application:
    """The server of one port. `swappable`: routes can later be replaced via `app[ROUTES].swap(...)`."""
    middlewares: list[Any] = [access_log, json_errors] if log_requests else [json_errors]
    middlewares.append(body_deadline(body_timeout))
    cors = CorsPolicy.of(cors_origins or [], REST_EXPOSED)
    if cors.enabled:
        middlewares.insert(1 if log_requests else 0, rest_cors(cors))  # inside the access log, around the errors
    app = web.Application(middlewares=middlewares, client_max_size=max_body)
    expect = expect_within(max_body)
    if swappable:
        routes = SwappableRoutes(build_routes(mounted, readiness))
        app[ROUTES] = routes
        app.router.add_route("*", "/{_naftiko_any:.*}", routes, expect_handler=expect)
        return app
    _add_routes(app, mounted, readiness, expect)
    return app


def build_routes(mounted: list[Mounted], readiness: Readiness) -> web.Application:
    """A route table for `SwappableRoutes` (raises RouteConflict like `build_rest_app`)."""
    table = web.Application()
    _add_routes(table, mounted, readiness)
    return table


def _add_routes(app: web.Application, mounted: list[Mounted], readiness: Readiness, expect: ExpectHandler | None = None) -> None:
    """Every declared route, most specific first. The same route twice in one file: the first is served
    and a warning names both lines; the same route in two files stops the start (RouteConflict)."""
    owners: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
    declared: set[str] = set()
    entries: list[tuple[tuple[int, ...], str, Route, OperationHandler]] = []
    for mount in mounted:
        adapter, invoker = mount.adapter, mount.invoker
        creds = Credentials.from_spec(adapter.auth, invoker.bind_context)
        file = str(invoker.capability.file)
        for resource in adapter.resources:
            for op in resource.operations:
                path = op.path or resource.path
                route = route_of(path)
                key = (op.method, route_key(path))
                where = str(op.action.where or resource.where)
                if key in owners:
                    first_file, first_where = owners[key]
                    if first_file != file:
                        raise RouteConflict(f"{op.method} {path.raw} at {where} collides with the route declared at {first_where}")
                    LOGGER.warning(
                        "duplicate route: serving the first",
                        extra={"file": file, "reason": f"{op.method} {path.raw} at {where} repeats the route declared at {first_where}; only the first is served"},
                    )
                    continue
                owners[key] = (file, where)
                declared.add(route.path)
                handler = OperationHandler(resource, op, invoker, creds, file, route)
                entries.append((specificity(path), op.method, route, handler))
    for _, method, route, handler in sorted(entries, key=lambda e: e[0]):
        added = app.router.add_route(method, route.path, handler, name=None, expect_handler=expect)
        if added.resource is not None:
            handler.bind_log(added.resource.canonical)
    for mount in mounted:  # forwards after every operation: declared operations answer first
        creds = Credentials.from_spec(mount.adapter.auth, mount.invoker.bind_context)
        for resource in mount.adapter.resources:
            if resource.forward is not None:
                fwd_route, tail = forward_route(resource.path)
                declared.add(resource.path.route)
                forward = ForwardHandler(resource, mount.invoker, creds, tail)
                app.router.add_route("*", fwd_route, forward, name=None, expect_handler=expect)
    add_health_routes(app, readiness, skip=declared)
