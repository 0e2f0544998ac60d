"""The REST server for one port: the spec's routes, exactly as declared.

Routes come straight from the capability (Connexion-style): each exposed resource
path and method becomes an aiohttp route whose handler is an OperationHandler.
Unknown paths answer 404 and known paths with another method 405 with `Allow`,
both as JSON. Adapters of several files may share one port; two routes that collide
are refused at start with both files and lines.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ...invoke.invoker import Invoker
from ...logs import LOGGER
from ...spec.model import RestAdapter
from ..auth import Credentials
from ..health import add_health_routes
from .handler import OperationHandler, error_response

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
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else request.path
        LOGGER.info(
            "request",
            extra={
                "method": request.method,
                "route": route,
                "status": status,
                "upstream_status": request.get("upstream_status"),
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                "request_id": request.get("request_id"),
            },
        )


def build_rest_app(
    mounted: list[Mounted],
    readiness: Readiness,
    *,
    max_body: int = 10 * 1024 * 1024,
    log_requests: bool = True,
) -> web.Application:
    middlewares = [access_log, json_errors] if log_requests else [json_errors]
    app = web.Application(middlewares=middlewares, client_max_size=max_body)
    owners: dict[tuple[str, tuple[str, ...]], str] = {}
    declared: set[str] = set()
    for mount in mounted:
        adapter, invoker = mount.adapter, mount.invoker
        creds = Credentials.from_spec(adapter.auth, invoker.bind_context)
        for resource in adapter.resources:
            for op in resource.operations:
                path = op.path or resource.path
                route = path.route
                declared.add(route)
                key = (op.method, path.shape())
                where = str(op.action.where or resource.where)
                if key in owners:
                    raise RouteConflict(f"{op.method} {path.raw} at {where} collides with the route declared at {owners[key]}")
                owners[key] = where
                handler = OperationHandler(resource, op, invoker, creds, str(invoker.capability.file))
                app.router.add_route(op.method, route, handler, name=None)
    add_health_routes(app, readiness, skip=declared)
    return app
