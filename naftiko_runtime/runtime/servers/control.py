"""The control server (health, status, metrics of the running capability) and the `--metrics-port` server."""

from __future__ import annotations

from aiohttp import web

from ... import tracing
from ...capability.control import ControlAdapter
from ...exposes.control import (
    AdapterStates,
    RuntimeMetrics,
    build_control_app,
    build_metrics_app,
)
from ...exposes.health import Readiness
from ...invoke.invoker import Invoker
from ...limits import ConnectionLimits
from .base import AiohttpServer, SwappableApp


class ControlServer(AiohttpServer):
    kind = "control"

    def __init__(self, host: str, port: int, adapter: ControlAdapter, invoker: Invoker, readiness: Readiness, *,
                 adapters: AdapterStates, metrics: RuntimeMetrics, limits: ConnectionLimits, shutdown_grace: float) -> None:
        super().__init__(f"control {adapter.namespace or ''}".strip(), host, port, limits, shutdown_grace)
        self.adapter, self.readiness, self.adapters, self.metrics = adapter, readiness, adapters, metrics
        self.routes = SwappableApp(self.build(adapter, invoker))

    @property
    def namespace(self) -> str | None:
        return self.adapter.namespace

    def build(self, adapter: ControlAdapter, invoker: Invoker) -> web.Application:
        return build_control_app(adapter, invoker.capability, readiness=self.readiness, adapters=self.adapters,
                                 metrics=self.metrics, bind_context=invoker.bind_context,
                                 scripting=invoker.scripts.governance, traces=tracing.local_buffer())

    async def start(self) -> int:
        return await self.listen(self.routes.outer())

    def swap(self, adapter: ControlAdapter, invoker: Invoker) -> None:
        self.routes.swap(self.build(adapter, invoker))
        self.adapter = adapter


class MetricsServer(AiohttpServer):
    """`--metrics-port`: nothing in it comes from a file, so a reload leaves it as it is."""

    kind = "metrics"

    def __init__(self, host: str, port: int, metrics: RuntimeMetrics, readiness: Readiness, *,
                 limits: ConnectionLimits, shutdown_grace: float) -> None:
        super().__init__("metrics", host, port, limits, shutdown_grace)
        self.metrics, self.readiness = metrics, readiness

    async def start(self) -> int:
        return await self.listen(build_metrics_app(self.metrics, self.readiness))
