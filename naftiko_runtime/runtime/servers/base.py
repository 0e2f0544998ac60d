"""What every adapter server is: started on its address, stopped, swapped to a reloaded definition, ready or not.

`AiohttpServer` is the common part of the aiohttp ports (REST, skill, control, metrics): it
listens within the connection limits and serves `SwappableApp`, so a hot reload replaces
the application behind an open port without touching its connections.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from ...exposes.listen import CappedSite, runner_settings
from ...limits import ConnectionLimits
from ...logs import LOGGER
from ..options import StartupError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server(Protocol):
    """An adapter server: `start` binds (port 0: any free port), `swap` serves a new definition in place."""

    kind: str
    name: str
    port: int | None

    async def start(self) -> int: ...

    async def stop(self) -> None: ...

    @property
    def ready(self) -> bool: ...


def cannot_listen(what: str, host: str, port: int, exc: OSError) -> StartupError:
    reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
    return StartupError(f"{what}: cannot listen on {host}:{port}: {reason}")


class SwappableApp:
    """A catch-all handler that runs the request through the current application's routes and middlewares.

    The served application is never started itself; `swap` replaces it in one assignment:
    requests already running keep the handler they started with, new ones see the new routes.
    """

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def swap(self, app: web.Application) -> None:
        self.app = app

    def outer(self, **kwargs: Any) -> web.Application:
        outer = web.Application(**kwargs)
        outer.router.add_route("*", "/{_naftiko_any:.*}", self.handle)
        return outer

    async def handle(self, request: web.Request) -> web.StreamResponse:
        app = self.app
        match = await app.router.resolve(request)
        match.add_app(request.app)
        match.freeze()
        # What aiohttp's Application._handle does after resolving; `match_info` is cached on first read.
        request._match_info = match
        request._cache.pop("match_info", None)
        handler: Handler = match.handler
        for middleware in reversed(app.middlewares):
            handler = functools.update_wrapper(functools.partial(middleware, handler=handler), handler)
        return await handler(request)


class AiohttpServer:
    """One aiohttp port: listen, report the bound port, stop with a grace period."""

    kind = "http"

    def __init__(self, name: str, host: str, port: int, limits: ConnectionLimits, shutdown_grace: float) -> None:
        self.name, self.host, self.requested = name, host, port
        self.limits, self.shutdown_grace = limits, shutdown_grace
        self.runner: web.BaseRunner | None = None
        self.port: int | None = None

    @property
    def ready(self) -> bool:
        return self.port is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def listen(self, app: web.Application) -> int:
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=self.shutdown_grace,
                               **runner_settings(self.limits))
        return await self.listen_with(runner)

    async def listen_server(self, make_server: Callable[..., web.Server]) -> int:
        """Serve aiohttp's low-level server (`make_server(**connection settings)`), with no `web.Application`."""
        server = make_server(access_log=None, **runner_settings(self.limits))
        return await self.listen_with(web.ServerRunner(server, handle_signals=False, shutdown_timeout=self.shutdown_grace))

    async def listen_with(self, runner: web.BaseRunner) -> int:
        await runner.setup()
        site = CappedSite(runner, self.host, self.requested, self.limits.max_connections, reuse_port=self.limits.reuse_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise cannot_listen(self.name, self.host, self.requested, exc) from None
        self.runner, self.port = runner, site.bound_port
        LOGGER.info("listening", extra={"adapter": self.name, "address": self.url})
        return self.port

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
