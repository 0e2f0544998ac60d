"""The skill server: one port per skill adapter, its catalogue swapped in place on reload."""

from __future__ import annotations

from aiohttp import web

from ...capability.skills import SkillAdapter
from ...exposes.health import Readiness
from ...invoke.invoker import Invoker
from ...limits import ConnectionLimits
from .base import AiohttpServer, SwappableApp


class SkillServer(AiohttpServer):
    kind = "skill"

    def __init__(self, host: str, port: int, adapter: SkillAdapter, invoker: Invoker, readiness: Readiness, *,
                 limits: ConnectionLimits, shutdown_grace: float) -> None:
        super().__init__(f"skill {adapter.namespace or ''}".strip(), host, port, limits, shutdown_grace)
        self.adapter, self.readiness = adapter, readiness
        self.routes = SwappableApp(self.build(adapter, invoker))

    @property
    def namespace(self) -> str | None:
        return self.adapter.namespace

    def build(self, adapter: SkillAdapter, invoker: Invoker) -> web.Application:
        from ...exposes.skill import build_skill_app

        return build_skill_app(adapter, invoker.capability, self.readiness, invoker.bind_context)

    async def start(self) -> int:
        return await self.listen(self.routes.outer())

    def swap(self, adapter: SkillAdapter, invoker: Invoker) -> None:
        self.routes.swap(self.build(adapter, invoker))
        self.adapter = adapter
