"""The REST server of one address: every REST adapter declared on it, swappable under `--watch`."""

from __future__ import annotations

from aiohttp import web

from ...exposes.health import Readiness
from ...exposes.rest.app import (
    ROUTES,
    Mounted,
    RouteConflict,
    build_rest_app,
    build_routes,
)
from ...limits import ConnectionLimits
from ..options import StartupError
from .base import AiohttpServer


class RestServer(AiohttpServer):
    kind = "rest"

    def __init__(self, host: str, port: int, mounted: list[Mounted], readiness: Readiness, *, limits: ConnectionLimits,
                 shutdown_grace: float, max_body: int, swappable: bool, cors_origins: list[str] | None = None) -> None:
        names = ", ".join(m.adapter.namespace for m in mounted)
        super().__init__(f"rest {names}", host, port, limits, shutdown_grace)
        self.mounted, self.readiness = mounted, readiness
        self.max_body, self.swappable = max_body, swappable
        self.cors_origins = cors_origins or []
        self.app: web.Application | None = None

    @property
    def namespaces(self) -> list[str]:
        return [m.adapter.namespace for m in self.mounted]

    async def start(self) -> int:
        try:
            self.app = build_rest_app(self.mounted, self.readiness, max_body=self.max_body,
                                      body_timeout=self.limits.body_timeout, swappable=self.swappable,
                                      cors_origins=self.cors_origins)
        except RouteConflict as exc:
            raise StartupError(f"route conflict: {exc}") from None
        return await self.listen(self.app)

    def prepare(self, mounted: list[Mounted]) -> web.Application:
        """The route table a swap would serve; raises RouteConflict before anything changes."""
        return build_routes(mounted, self.readiness)

    def swap(self, mounted: list[Mounted], table: web.Application | None = None) -> None:
        assert self.app is not None and self.swappable
        self.app[ROUTES].swap(table if table is not None else build_routes(mounted, self.readiness))
        self.mounted = mounted
