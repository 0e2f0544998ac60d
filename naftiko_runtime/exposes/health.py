"""Liveness and readiness, on every HTTP port the runtime opens."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

Readiness = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
LIVE, READY = "/health/live", "/health/ready"


def add_health_routes(app: web.Application, readiness: Readiness, skip: set[str] | None = None) -> None:
    """Add `/health/live` and `/health/ready` unless the capability declares those paths itself."""
    skip = skip or set()

    async def live(_: web.Request) -> web.Response:
        return web.json_response({"status": "UP"})

    async def ready(_: web.Request) -> web.Response:
        ok, detail = await readiness()
        body = {"status": "UP" if ok else "DOWN", **detail}
        return web.Response(status=200 if ok else 503, text=json.dumps(body), content_type="application/json")

    if LIVE not in skip:
        app.router.add_get(LIVE, live)
    if READY not in skip:
        app.router.add_get(READY, ready)
