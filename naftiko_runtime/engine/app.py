"""The aiohttp application: middlewares (errors, auth), admin routes and the API routes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from .api.humanitec import HumanitecAPI
from .errors import EngineError, NotFound, Unauthorized
from .service import Engine

log = logging.getLogger(__name__)

ENGINE_KEY = web.AppKey("engine", Engine)
STRICT_AUTH_KEY = web.AppKey("strict_auth", str)
OPEN_PATHS = ("/healthz", "/_engine/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as ``{"error": "API-…", "message": …}`` with the right status."""
    try:
        return await handler(request)
    except EngineError as exc:
        return web.json_response(exc.body(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status == 404:
            return web.json_response(NotFound(f"no such endpoint: {request.method} {request.path}").body(), status=404)
        if exc.status == 405:
            return web.json_response({"error": "API-405", "message": f"{request.method} is not allowed here"},
                                     status=405, headers={"Allow": exc.headers.get("Allow", "")})
        raise
    except Exception as exc:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.json_response({"error": "API-500", "message": f"internal engine error: {exc}"}, status=500)


def auth_middleware(token: str) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """``--strict-auth TOKEN``: require ``Authorization: Bearer TOKEN`` on the API paths."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(OPEN_PATHS):
            header = request.headers.get("Authorization", "")
            if not header:
                raise Unauthorized("no Authorization header")
            if header.removeprefix("Bearer ").strip() != token:
                raise Unauthorized("the bearer token is not valid for this engine")
        return await handler(request)

    return middleware


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def reset(request: web.Request) -> web.Response:
    await request.app[ENGINE_KEY].reset()
    return web.json_response(request.app[ENGINE_KEY].state())


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[ENGINE_KEY].state())


def build_app(engine: Engine, strict_auth: str | None = None) -> web.Application:
    middlewares = [errors_middleware]
    if strict_auth:
        middlewares.append(auth_middleware(strict_auth))
    app = web.Application(middlewares=middlewares, client_max_size=8 * 1024 * 1024)
    app[ENGINE_KEY] = engine
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/_engine/reset", reset)
    app.router.add_get("/_engine/state", state)
    humanitec = HumanitecAPI(engine)
    app.router.add_routes(humanitec.routes(""))
    app.router.add_routes(humanitec.routes("/v1"))
    return app
