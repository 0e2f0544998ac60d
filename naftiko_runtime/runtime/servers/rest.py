"""The REST server of one address: every REST adapter declared on it, its routes swapped in place under `--watch`."""

from __future__ import annotations

from ...exposes.health import Readiness
from ...exposes.rest.app import Mounted, RestService, RouteConflict, build_rest_app, build_routes
from ...exposes.rest.dispatch import RouteTable
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
        self.service: RestService | None = None

    @property
    def namespaces(self) -> list[str]:
        return [m.adapter.namespace for m in self.mounted]

    async def start(self) -> int:
        try:
            self.service = build_rest_app(self.mounted, self.readiness, max_body=self.max_body,
                                          body_timeout=self.limits.body_timeout, cors_origins=self.cors_origins)
        except RouteConflict as exc:
            raise StartupError(f"route conflict: {exc}") from None
        return await self.listen_server(self.service.server)

    def prepare(self, mounted: list[Mounted]) -> RouteTable:
        """The route table a swap would serve; raises RouteConflict before anything changes."""
        return build_routes(mounted, self.readiness)

    def swap(self, mounted: list[Mounted], table: RouteTable | None = None) -> None:
        assert self.service is not None and self.swappable
        self.service.swap(table if table is not None else build_routes(mounted, self.readiness))
        self.mounted = mounted
