"""The engine page (``/ui``): pipelines, runs with live status, step logs, approvals.

Plain server-rendered HTML (jinja2, autoescaped) and one small script, no build step. It reads
and acts through ``adapter.EngineView`` only; ``guard`` keeps it to loopback, same-origin use.
``setup(app, engine)`` is the one call the engine's app makes.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from ..service import Engine
from . import guard
from .adapter import EngineView
from .routes import EnginePage

STATIC = {"ui.js": "text/javascript", "ui.css": "text/css", "favicon.svg": "image/svg+xml"}

__all__ = ["setup"]


def _static(body: bytes, content_type: str):
    async def handler(request: web.Request) -> web.Response:
        guard.check(request)
        return web.Response(body=body, content_type=content_type, headers=guard.SECURITY_HEADERS)

    return handler


def setup(app: web.Application, engine: Engine) -> None:
    """Add the page's routes to the engine's app; templates and static files load now, once."""
    app.router.add_routes(EnginePage(EngineView(engine)).routes())
    folder = resources.files(__name__) / "static"
    for name, content_type in STATIC.items():
        app.router.add_get(f"/ui/static/{name}", _static((folder / name).read_bytes(), content_type))
