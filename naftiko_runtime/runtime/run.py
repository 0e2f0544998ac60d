"""`naftiko run`: build the plan, start the engine and every adapter server from it, stop them as one.

This is the one place that wires the layers together; adapters and the engine know
nothing of each other.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..capability.model import McpAdapter
from ..exposes.rest.app import Mounted
from ..invoke.invoker import Invoker
from ..logs import LOGGER
from .invokers import Pool, build_invoker
from .listening import listening
from .options import RunOptions, StartupError
from .plan import NamespaceMode, Plan
from .servers.engine import EngineServer
from .servers.mcp import McpHttpServer
from .servers.rest import RestServer
from .servers.skill import SkillServer
from .servers.stdio import StdioServer

if TYPE_CHECKING:
    # Imported where served: the control and metrics servers bring prometheus_client (~2 MB, +12 MB alone).
    from .servers.control import ControlServer, MetricsServer


class Runtime:
    """Everything `naftiko run` serves, started and stopped as one."""

    def __init__(self, options: RunOptions) -> None:
        self.layers = Pool(options)
        # The environment is read once (by the pool): the plan resolves binds with it, on reloads too.
        self.options = replace(options, env=self.layers.env)
        self.plan = Plan(self.options, [])
        self.engine: EngineServer | None = None
        self.metrics: Any = None  # RuntimeMetrics, when a control adapter or --metrics-port serves it
        self.invokers: list[Invoker] = []
        self.rest: dict[tuple[str, int], RestServer] = {}
        self.mcp: dict[tuple[str, int], McpHttpServer] = {}
        self.skills: list[SkillServer] = []
        self.controls: list[ControlServer] = []
        self.metrics_server: MetricsServer | None = None
        self.stdio: StdioServer | None = None
        self.stopping = False

    # -- what is served ----------------------------------------------------------------
    @property
    def modes(self) -> list[NamespaceMode]:
        return self.plan.modes

    @property
    def engine_url(self) -> str | None:
        given = listening(self.options).engine_url
        if given is not None:
            return given
        return self.engine.url if self.engine is not None and self.engine.ready else None

    def servers(self) -> list[Any]:
        extra = [s for s in (self.metrics_server, self.stdio) if s is not None]
        return [*self.rest.values(), *self.mcp.values(), *self.skills, *self.controls, *extra]

    @property
    def started(self) -> dict[tuple[str, str | None], int]:
        """(adapter type, namespace) -> bound port, for every adapter being served on a port."""
        out: dict[tuple[str, str | None], int] = {}
        for server in [*self.rest.values(), *self.mcp.values()]:
            if server.ready:
                out.update({(server.kind, ns): server.port for ns in server.namespaces})
        for other in [*self.skills, *self.controls]:
            if other.ready:
                out[(other.kind, other.namespace)] = other.port
        return out

    @property
    def endpoints(self) -> list[str]:
        return [f"{s.name} {s.url}" for s in self.servers() if s.port is not None]

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        namespaces = [m.as_json(self.engine_url) for m in self.modes]
        ok = all(m.binds_resolved or m.mode != "live" for m in self.modes)
        disabled = [part.as_json() for part in self.plan.disabled]  # served around, so still ready
        if self.stopping:
            return False, {"stopping": True, "namespaces": namespaces, "disabled": disabled}
        return ok, {"namespaces": namespaces, "disabled": disabled}

    def adapter_states(self) -> list[Any]:
        """Every declared adapter with its bound port and whether it is being served (for the control adapter)."""
        from ..exposes.control import AdapterState

        started = self.started
        stdio = {a.namespace for a, _ in self.plan.stdio_adapters()}  # served over stdio, or by the desktop agent
        states = []
        for entry in self.plan.entries:
            for adapter in entry.capability.adapters:
                key = (adapter.type, adapter.namespace)
                state = "started" if key in started or (adapter.type == "mcp" and adapter.namespace in stdio) else "stopped"
                states.append(AdapterState(adapter.type, adapter.namespace, started.get(key, adapter.port), state))
        return states

    def mcp_adapters(self) -> list[tuple[Any, Invoker]]:
        """Every MCP adapter (HTTP or stdio) with the invoker serving it."""
        return [(a, self.invokers[i]) for i, e in enumerate(self.plan.entries) for a in e.adapters(McpAdapter)]

    # -- starting ----------------------------------------------------------------------
    async def start_engine(self) -> None:
        plan = listening(self.options)
        if plan.engine_url is not None:
            LOGGER.info("using the engine at --engine-url", extra={"url": plan.engine_url})
            return
        if self.engine is None:
            self.engine = EngineServer(plan.engine_port, self.options.engine_db)
        if not self.engine.ready:
            await self.engine.start()

    async def prepare(self) -> None:
        """The plan, the engine if needed and an invoker per file: everything but the servers."""
        self.plan = Plan.build(self.options)
        self.layers.trace(self.plan.entries)
        if self.plan.needs_engine:
            await self.start_engine()
        if self.plan.wants_metrics:
            from ..metrics import RuntimeMetrics

            self.metrics = RuntimeMetrics()
        self.invokers = [build_invoker(e, self.layers, self.engine_url, self.metrics) for e in self.plan.entries]

    def rest_mounts(self) -> dict[tuple[str, int], list[Mounted]]:
        """Every REST address with the adapters (and their invokers) it serves."""
        return {address: [Mounted(a, self.invokers[i]) for a, i in members] for address, members in self.plan.rest_groups().items()}

    async def start(self) -> None:
        await self.prepare()
        self._create_servers()
        for server in [*self.rest.values(), *self.mcp.values(), *self.skills, *self.controls]:
            await server.start()
        if self.metrics_server is not None:
            await self.metrics_server.start()

    def _create_servers(self) -> None:
        plan, options, limits = self.plan, self.options, self.options.connections
        common: dict[str, Any] = {"limits": limits, "shutdown_grace": options.shutdown_grace}
        for (host, port), mounted in self.rest_mounts().items():
            self.rest[(host, port)] = RestServer(host, port, mounted, self.readiness, max_body=options.max_body,
                                                 swappable=options.watch, cors_origins=options.cors_origins, **common)
        for (host, port), members in plan.mcp_groups().items():
            group = [(a, self.invokers[i]) for a, i in members]
            self.mcp[(host, port)] = McpHttpServer(host, max(port, 0), group, self.readiness, max_body=options.max_body,
                                                   allowed_hosts=options.allowed_hosts, cors_origins=options.cors_origins,
                                                   **common)
        for adapter, i in plan.other_adapters("skill"):
            self.skills.append(SkillServer(plan.host(adapter), plan.other_port(adapter), adapter, self.invokers[i],
                                           self.readiness, **common))
        controls = plan.other_adapters("control")
        if controls or options.metrics_port is not None:
            from .servers.control import ControlServer, MetricsServer
        for adapter, i in controls:
            self.controls.append(ControlServer(plan.host(adapter), plan.other_port(adapter), adapter, self.invokers[i],
                                               self.readiness, adapters=self.adapter_states, metrics=self.metrics, **common))
        if options.metrics_port is not None:
            self.metrics_server = MetricsServer(options.host or "127.0.0.1", options.metrics_port, self.metrics,
                                                self.readiness, **common)
        # --stdio serves the first MCP adapter over stdin/stdout; without it, the one whose file says `transport: stdio`.
        adapters = plan.stdio_adapters()
        if not options.stdio and len(adapters) > 1:
            names = ", ".join(a.namespace for a, _ in adapters)
            raise StartupError(f"MCP adapters {names} all declare transport: stdio; one process serves one of them on stdin/stdout")
        if adapters:
            adapter, i = adapters[0]
            self.stdio = StdioServer(adapter, self.invokers[i])

    # -- hot reload --------------------------------------------------------------------
    async def reload(self, index: int) -> bool:
        from .reload import reload

        return await reload(self, index)

    async def watch(self, interval: float | None = None) -> None:
        from .reload import watch

        await watch(self, self.options.watch_interval if interval is None else interval)

    # -- stopping ----------------------------------------------------------------------
    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (bounded), close upstream sessions."""
        self.stopping = True
        for server in self.mcp.values():
            server.begin_stop()
        await asyncio.gather(*(s.stop() for s in self.mcp.values()))
        others = [*self.rest.values(), *self.skills, *self.controls]
        if self.metrics_server is not None:
            others.append(self.metrics_server)
        for server in reversed(others):
            await server.stop()
        if self.engine is not None:
            await self.engine.stop()
        await self.layers.close()


async def run_forever(options: RunOptions) -> None:
    runtime = Runtime(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watcher = None
    try:
        await runtime.start()
        if options.stdio and runtime.stdio is None:
            raise StartupError("--stdio: no MCP adapter in the given files")
        if options.watch:
            watcher = asyncio.create_task(runtime.watch(), name="watch")
        if runtime.stdio is not None:
            stdio_task = asyncio.create_task(runtime.stdio.serve())
            stop_task = asyncio.create_task(stop.wait())
            await asyncio.wait({stdio_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            stop_task.cancel()
        else:
            for mode in runtime.modes:
                LOGGER.info("namespace", extra={"namespace": mode.namespace, "mode": mode.mode,
                                                "upstream": mode.target(runtime.engine_url)})
            LOGGER.info("ready", extra={"endpoints": runtime.endpoints})
            await stop.wait()
            LOGGER.info("stopping")
    finally:
        if watcher is not None:
            watcher.cancel()
        await runtime.stop()
