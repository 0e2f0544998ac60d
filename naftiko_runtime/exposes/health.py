"""Liveness and readiness, the same on every HTTP port the runtime opens (REST, MCP, skill, control, metrics).

`live` and `ready` compute the answers; `add_health_routes` serves them on an aiohttp
application (skill, control), `rest.dispatch.add_health` in a REST port's route table,
`starlette_routes` on the MCP server's Starlette application. The control
adapter's readiness also lists the adapters, and calls a missing one DEGRADED.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from aiohttp import web

Readiness = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
LIVE, READY = "/health/live", "/health/ready"


class _State(Protocol):
    state: str

    def as_json(self) -> dict[str, Any]: ...


Adapters = Callable[[], Iterable[_State]]


def live() -> tuple[int, dict[str, Any]]:
    return 200, {"status": "UP"}


async def ready(readiness: Readiness, adapters: Adapters | None = None) -> tuple[int, dict[str, Any]]:
    """200 and UP when ready; 503 and DOWN (or DEGRADED, when adapters are listed and one is not started)."""
    ok, detail = await readiness()
    if adapters is None:
        return (200 if ok else 503), {"status": "UP" if ok else "DOWN", **detail}
    states = [a.as_json() for a in adapters()]
    up = ok and all(a["state"] == "started" for a in states)
    return (200 if up else 503), {"status": "UP" if up else "DEGRADED", "adapters": states, **detail}


def add_health_routes(app: web.Application, readiness: Readiness, skip: set[str] | None = None,
                      adapters: Adapters | None = None) -> None:
    """Add `/health/live` and `/health/ready` unless the capability declares those paths itself."""
    skip = skip or set()

    async def live_handler(_: web.Request) -> web.Response:
        status, body = live()
        return web.json_response(body, status=status)

    async def ready_handler(_: web.Request) -> web.Response:
        status, body = await ready(readiness, adapters)
        return web.json_response(body, status=status)

    if LIVE not in skip:
        app.router.add_get(LIVE, live_handler)
    if READY not in skip:
        app.router.add_get(READY, ready_handler)


def starlette_routes(readiness: Readiness) -> list[Any]:
    """The same two routes for a Starlette application (the MCP port)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def live_handler(_: Request) -> JSONResponse:
        status, body = live()
        return JSONResponse(body, status_code=status)

    async def ready_handler(_: Request) -> JSONResponse:
        status, body = await ready(readiness)
        return JSONResponse(body, status_code=status)

    return [Route(LIVE, live_handler, methods=["GET"]), Route(READY, ready_handler, methods=["GET"])]
