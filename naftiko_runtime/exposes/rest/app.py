"""The REST server for one port: the spec's routes, exactly as declared, on aiohttp's low-level server.

Routes come straight from the capability (Connexion-style): `dispatch.build_routes` turns
each exposed path and method into a ready plan once, at load. Per request there is no
`web.Application`, no router and no middleware chain: `RestService.handle` runs the layers
composed in `build_handler` around one dispatch-table lookup. Unknown paths answer 404 and
known paths with another method 405 with `Allow`, both as JSON. Adapters of several files
may share one port; two routes that collide are refused at start with both files and lines.

A body larger than `max_body` is refused with 413 (before `100 Continue` when one is
expected), and one that pauses longer than `body_timeout` ends with 408 and a closed
connection. Under `--watch`, `swap` replaces the table in one assignment: requests already
running keep the plan (and invoker) they started with, new ones see the new routes, and
connections are never touched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from ...limits import DEFAULT_MAX_BODY
from ..cors import REST_EXPOSED, CorsPolicy
from ..errors import error_response
from . import layers
from .dispatch import Mounted, Readiness, RouteConflict, RouteTable, build_routes
from .request import Exchange

__all__ = ["Mounted", "RestService", "RouteConflict", "build_rest_app", "build_routes"]


class RestService:
    """What aiohttp's low-level server calls for every request of one port."""

    def __init__(self, table: RouteTable, *, max_body: int, body_timeout: float, log_requests: bool,
                 cors_origins: list[str], interim: bool = True) -> None:
        self.table = table
        self.max_body = max_body
        self.handler = build_handler(self.dispatch, max_body=max_body, body_timeout=body_timeout,
                                     log_requests=log_requests, cors=CorsPolicy.of(cors_origins, REST_EXPOSED),
                                     interim=interim)

    def swap(self, table: RouteTable) -> None:
        self.table = table

    def handle(self, request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        return self.handler(request, Exchange())

    def dispatch(self, request: web.BaseRequest, exchange: Exchange) -> Awaitable[web.StreamResponse]:
        plan, params, allowed = self.table.resolve(request.method, request.rel_url.path_safe)
        if plan is None:
            return _unrouted(request, allowed)
        exchange.params = params
        exchange.log_fields = plan.log_fields
        return plan(request, exchange)

    def make_request(self, message: RawRequestMessage, payload: StreamReader, protocol: RequestHandler,
                     writer: AbstractStreamWriter, task: asyncio.Task[None]) -> web.BaseRequest:
        """aiohttp's plain request, with this port's body limit (aiohttp's default is 1 MiB)."""
        return web.BaseRequest(message, payload, protocol, writer, task, task.get_loop(), client_max_size=self.max_body)

    def server(self, **kwargs: Any) -> web.Server:
        """The low-level server (`kwargs`: aiohttp's connection settings)."""
        return web.Server(self.handle, request_factory=self.make_request, **kwargs)


async def _unrouted(request: web.BaseRequest, allowed: set[str]) -> web.StreamResponse:
    """404, or 405 with `Allow` when the path takes other methods."""
    if not allowed:
        return error_response(404, "not_found", f"no route for {request.path}")
    methods = ", ".join(sorted(allowed))
    response = error_response(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}; allowed: {methods}")
    response.headers["Allow"] = methods
    return response


def build_handler(dispatch: layers.Handler, *, max_body: int, body_timeout: float, log_requests: bool,
                  cors: CorsPolicy, interim: bool = True) -> layers.Handler:
    """The one place the REST layers are composed, innermost first; a layer that is off is left out.

    `interim=False` for a server that sends `100 Continue` itself (granian: `benchmarks/rsgi.py`)."""
    handler = dispatch
    if body_timeout > 0:
        handler = layers.body_deadline(handler, body_timeout)
    handler = layers.expect_within(handler, max_body, interim)
    handler = layers.json_errors(handler)
    if cors.enabled:
        handler = layers.cors(handler, cors)  # inside the access log, around the errors
    if log_requests:
        handler = layers.access_log(handler)
    return handler


def build_rest_app(
    mounted: list[Mounted],
    readiness: Readiness,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    body_timeout: float = 30.0,
    log_requests: bool = True,
    cors_origins: list[str] | None = None,
    interim: bool = True,
) -> RestService:
    """The server of one port (raises RouteConflict); `swap(build_routes(...))` serves new routes.

    `interim=False` and `body_timeout=0` for the RSGI adapter (`benchmarks/rsgi.py`): granian sends
    `100 Continue` itself, and the body deadline watches aiohttp's body stream."""
    return RestService(build_routes(mounted, readiness), max_body=max_body, body_timeout=body_timeout,
                       log_requests=log_requests, cors_origins=cors_origins or [], interim=interim)
