"""The aiohttp application: middlewares (errors, auth), admin routes and the API routes.

Every API answers errors in its own shape (``API_FAMILIES``: the path decides which):
Humanitec ``{error: "API-…", message}``, Inngest ``{error, status, data}``, seed 001
``{statusCode, message, error}``, seed 002 ``{code, message, content}``.

Auth: by default Humanitec, Inngest and seed 002 check nothing (``naftiko run`` sends no
usable token when a capability's token bind does not resolve, and the engine is the offline
stand-in exactly then); seed 001's Pipelines API requires a well-formed bearer token
(``bearer_middleware``). ``--strict-auth TOKEN`` requires TOKEN on every API path, as
``Authorization: Bearer TOKEN`` (or a bare ``Authorization: TOKEN``), ``X-Auth-Token: TOKEN``
(seed 002's token header), ``?token=TOKEN`` (WebSocket clients), an Inngest ``signkey-<env>-``
prefix being ignored; ``POST /e/TOKEN`` (the Inngest event key) counts too. ``/healthz`` and
``/_engine/…`` stay open.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import ui
from .api import inngest_docs, pipelines_v1_stages, runs_v0
from .api.bodies import json_body
from .api.humanitec import HumanitecAPI
from .api.inngest import InngestAPI
from .api.inngest_control import InngestControlAPI
from .api.pipelines_v1 import PipelinesV1API
from .api.runs_v0 import RunsV0API
from .api.webhooks import WebhooksAPI
from .deliveries import known_trigger
from .errors import BadRequest, EngineError
from .service import Engine

log = logging.getLogger(__name__)

ENGINE_KEY = web.AppKey("engine", Engine)
STRICT_AUTH_KEY = web.AppKey("strict_auth", str)
OPEN_PATHS = ("/healthz", "/_engine/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


ErrorShape = Callable[[int, str, "str | None"], dict]


def _humanitec_error(status: int, message: str, code: str | None = None) -> dict:
    return {"error": code or f"API-{status}", "message": message}


API_FAMILIES: list[tuple[tuple[str, ...], ErrorShape]] = [
    (inngest_docs.PREFIXES, inngest_docs.error_body),
    (pipelines_v1_stages.PREFIXES, pipelines_v1_stages.error_body),
    (runs_v0.PREFIXES, runs_v0.error_body),
]


def error_shape(path: str) -> ErrorShape:
    for prefixes, shape in API_FAMILIES:
        if path.startswith(prefixes):
            return shape
    return _humanitec_error


def _error(request: web.Request, status: int, message: str, code: str | None = None,
           exc: EngineError | None = None, headers: dict[str, str] | None = None) -> web.Response:
    shape = error_shape(request.path)
    body = shape(status, message, code)
    if exc is not None and exc.details and shape is _humanitec_error:
        body["details"] = exc.details
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves in the shape of the API that was called, with the right status."""
    try:
        return await handler(request)
    except EngineError as exc:
        return _error(request, exc.status, exc.message, exc.code, exc)
    except web.HTTPException as exc:
        if exc.status == 404:
            return _error(request, 404, f"no such endpoint: {request.method} {request.path}")
        if exc.status == 405:
            return _error(request, 405, f"{request.method} is not allowed here",
                          headers={"Allow": exc.headers.get("Allow", "")})
        raise
    except Exception as exc:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, 500, f"internal engine error: {exc}")


def _presented_tokens(request: web.Request) -> list[str]:
    out = []
    header = request.headers.get("Authorization", "").strip()
    if header:
        value = re.sub(r"^(Bearer|Token)\s+", "", header, flags=re.I).strip()
        out += [value, re.sub(r"^signkey-[a-z0-9]+-", "", value)]
    for name in ("X-Auth-Token", "X-Api-Token"):
        if request.headers.get(name):
            out.append(request.headers[name].strip())
    if request.query.get("token"):
        out.append(request.query["token"])
    m = re.match(r"^/e/([^/]+)$", request.path)
    if m:
        out.append(m.group(1))
    return [t for t in out if t]


def auth_middleware(token: str) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """``--strict-auth TOKEN``: require TOKEN on the API paths, answering each API's own 401."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(OPEN_PATHS) and request.path != "/healthz":
            presented = _presented_tokens(request)
            if not presented:
                message = "No auth found" if request.path.startswith(inngest_docs.PREFIXES) else "no Authorization header"
                return _error(request, 401, message, "API-401")
            if token not in presented:
                return _error(request, 401, "the token is not valid for this engine", "API-401")
        return await handler(request)

    return middleware


#: ``Bearer <b64token>`` (RFC 6750): any well-formed token passes (``naftiko run`` sends a stand-in
#: when a capability's token bind is unset); no header, another scheme, a bare ``Bearer`` or a
#: malformed token does not.
BEARER = re.compile(r"^Bearer +[A-Za-z0-9\-._~+/]+=*$", re.I)


@web.middleware
async def bearer_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Seed 001: every endpoint of the Pipelines API requires a bearer token. Any well-formed one
    is accepted (a JWT's claims are read by the API); none, or a malformed one, is a 401 with a
    ``WWW-Authenticate`` challenge (see ``BEARER``). WebSocket clients may pass ``?token=``."""
    if request.path.startswith(pipelines_v1_stages.PREFIXES):
        header = request.headers.get("Authorization", "").strip()
        if not BEARER.match(header) and not request.query.get("token"):
            error = "invalid_token" if header else None
            challenge = 'Bearer realm="naftiko-local-engine"' + (f', error="{error}"' if error else "")
            message = "the bearer token is malformed" if header else "a bearer token is required"
            return _error(request, 401, message, "API-401", headers={"WWW-Authenticate": challenge})
    return await handler(request)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def reset(request: web.Request) -> web.Response:
    await request.app[ENGINE_KEY].reset()
    return web.json_response(request.app[ENGINE_KEY].state())


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[ENGINE_KEY].state())


async def deliveries(request: web.Request) -> web.Response:
    """The webhook delivery journal, oldest first (filters: webhook, status, org, app)."""
    q = request.query
    items = request.app[ENGINE_KEY].deliveries.journal(q.get("webhook"), q.get("status"), q.get("org"), q.get("app"))
    return web.json_response(items)


async def fire(request: web.Request) -> web.Response:
    """Fire a webhook trigger by hand: ``{scope, type, org_id, app_id, env_id, …params}``.

    The way to produce ``environment`` created/deleted events without a pipeline (the
    ``environment`` action does it from a pipeline). Answers the deliveries it created.
    """
    body = await json_body(request)
    if not isinstance(body, dict) or not known_trigger(body.get("scope"), body.get("type")):
        raise BadRequest("give a known trigger: {scope, type} from GET /orgs/{orgId}/events")
    if not body.get("org_id") or not body.get("app_id"):
        raise BadRequest("'org_id' and 'app_id' are required")
    data = {k: v for k, v in body.items() if k not in ("scope", "type")}
    if body["scope"] == "environment" and "env_type" in body:
        data["type"] = body["env_type"]
    created = await request.app[ENGINE_KEY].deliveries.fire(body["scope"], body["type"], data)
    return web.json_response(created, status=201)


def build_app(engine: Engine, strict_auth: str | None = None) -> web.Application:
    middlewares = [errors_middleware, bearer_middleware]
    if strict_auth:
        middlewares.append(auth_middleware(strict_auth))
    app = web.Application(middlewares=middlewares, client_max_size=8 * 1024 * 1024)
    app[ENGINE_KEY] = engine
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/_engine/reset", reset)
    app.router.add_get("/_engine/state", state)
    app.router.add_get("/_engine/deliveries", deliveries)
    app.router.add_post("/_engine/fire", fire)
    humanitec, webhooks = HumanitecAPI(engine), WebhooksAPI(engine)
    for prefix in ("", "/v1"):
        app.router.add_routes(humanitec.routes(prefix))
        app.router.add_routes(webhooks.routes(prefix))
    app.router.add_routes(InngestAPI(engine).routes())
    control = InngestControlAPI(engine)
    app.router.add_routes(control.routes())
    app.on_shutdown.append(control.close)
    app.router.add_routes(PipelinesV1API(engine).routes())
    app.router.add_routes(RunsV0API(engine).routes())
    ui.setup(app, engine)
    return app
