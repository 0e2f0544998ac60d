"""`naftiko run`: load the files, decide live or local engine per namespace, serve every adapter.

This is the one place that wires the layers together; adapters and the engine know
nothing of each other.
"""

from __future__ import annotations

import asyncio
import errno
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from . import tracing
from .binding.binds import BindValues, resolve_capability_binds
from .capability.control import ControlAdapter
from .capability.loader import load
from .capability.model import Capability, McpAdapter, OtherAdapter, RestAdapter
from .exposes.listen import CappedSite, runner_settings
from .exposes.rest.app import (
    ROUTES,
    Mounted,
    RouteConflict,
    build_rest_app,
    build_routes,
)
from .invoke.client import UpstreamPool, UpstreamSettings
from .invoke.invoker import Invoker
from .limits import (
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_CONCURRENCY,
    ConnectionLimits,
    limit_concurrency,
)
from .logs import LOGGER, SECRETS

ENGINE_HOSTS = ("api.humanitec.io", "api.inngest.com")
# Local-only APIs (no public host) name the engine's own default address as their baseUri.
ENGINE_LOCAL_BASES = (("localhost", 8700), ("127.0.0.1", 8700))


class StartupError(Exception):
    """A reason not to start, said in one line."""


@dataclass
class RunOptions:
    files: list[Path]
    host: str | None = None
    rest_port: int | None = None
    mcp_port: int | None = None
    skill_port: int | None = None
    control_port: int | None = None
    upstreams: dict[str, str] = field(default_factory=dict)
    mode: str = "auto"  # auto | local | live
    engine_port: int = 8700
    engine_db: str | None = None
    stdio: bool = False
    allowed_hosts: list[str] = field(default_factory=list)
    connect_timeout: float = 5.0
    total_timeout: float = 30.0
    max_body: int = DEFAULT_MAX_BODY
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY  # concurrent upstream calls per namespace; 0: no limit
    shutdown_grace: float = 10.0
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)  # per listening port
    metrics_port: int | None = None
    watch: bool = False
    watch_interval: float = 1.0
    env: dict[str, str] | None = None


@dataclass
class NamespaceMode:
    file: str
    namespace: str
    mode: str  # live | local-engine | override
    upstream: str
    binds_resolved: bool


@dataclass
class Loaded:
    capability: Capability
    binds: BindValues
    invoker: Invoker


def _engine_candidate(base_uri: str) -> bool:
    parts = urlsplit(base_uri)
    host = parts.hostname or ""
    return host in ENGINE_HOSTS or (host, parts.port) in ENGINE_LOCAL_BASES


def _namespace_binds(cap: Capability, namespace: str, binds: BindValues) -> bool:
    """Whether the binds this namespace needs resolve (all of the file's binds when it names none)."""
    api = cap.api(namespace)
    names = api.bind_names() if api is not None else set()
    relevant = [s for s in binds.status if not names or s.var in names]
    return all(s.resolved for s in relevant)


def _register_basic_credentials(cap: Capability, binds: BindValues) -> None:
    """Basic credentials travel base64-encoded: register that form too, so an echo of the header is redacted."""
    ctx = binds.context()
    for api in cap.consumes:
        auth = api.auth
        if auth is not None and auth.type in ("basic", "digest"):
            try:
                username = auth.username.render(ctx) if auth.username is not None else ""
                password = auth.password.render(ctx) if auth.password is not None else ""
            except Exception:  # an unresolved bind: nothing to register
                continue
            SECRETS.add_basic(username, password)


class Runtime:
    """Everything `naftiko run` serves, started and stopped as one."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.loaded: list[Loaded] = []
        self.modes: list[NamespaceMode] = []
        self.pool = UpstreamPool(UpstreamSettings(connect_timeout=options.connect_timeout, total_timeout=options.total_timeout))
        self.engine: Any = None
        self.runners: list[web.AppRunner] = []
        self.servers: list[Any] = []
        self.server_tasks: list[asyncio.Task[Any]] = []
        self.endpoints: list[str] = []
        self.started: dict[tuple[str, str | None], int] = {}  # (adapter type, namespace) -> bound port
        self.in_flight = limit_concurrency(self.pool, options.max_concurrency)
        self.metrics: Any = None  # RuntimeMetrics, when a control adapter or --metrics-port serves it
        self.rest_apps: dict[tuple[str, int], web.Application] = {}  # for --watch
        self.mcp_servers: dict[str, Any] = {}  # namespace -> uvicorn server, for --watch
        self.stopping = False

    # -- loading ---------------------------------------------------------------------
    def load(self) -> None:
        for file in self.options.files:
            item, modes = self.load_file(file)
            self.modes += modes
            self.loaded.append(item)

    def load_file(self, file: Path) -> tuple[Loaded, list[NamespaceMode]]:
        """Load, validate and bind one file and decide each namespace's mode; StartupError if it cannot serve."""
        result = load(file)
        if not result.ok:
            raise StartupError("\n".join(str(d) for d in result.errors) or f"{file}: cannot be loaded")
        for warning in result.warnings:
            LOGGER.debug(str(warning))
        cap = result.capability
        assert cap is not None
        binds = resolve_capability_binds(cap, self.options.env)
        SECRETS.add(binds.secrets)
        _register_basic_credentials(cap, binds)
        modes: list[NamespaceMode] = []
        overrides = dict(self.options.upstreams)
        for api in cap.consumes:
            resolved = _namespace_binds(cap, api.namespace, binds)
            explicit = overrides.get(api.namespace) or overrides.get("*")
            if explicit:
                mode = NamespaceMode(str(file), api.namespace, "override", explicit, resolved)
            elif _engine_candidate(api.base_uri) and self.options.mode != "live" and (self.options.mode == "local" or not resolved):
                mode = NamespaceMode(str(file), api.namespace, "local-engine", "", resolved)
            else:
                if self.options.mode == "live" and not resolved:
                    missing = ", ".join(f"{s.var} (from {s.source})" for s in binds.status if not s.resolved)
                    raise StartupError(f"{file}: namespace '{api.namespace}' runs live but its binds do not resolve: {missing}")
                mode = NamespaceMode(str(file), api.namespace, "live", api.base_uri, resolved)
            modes.append(mode)
        return Loaded(cap, binds, Invoker(cap, binds, self.pool, overrides)), modes

    @property
    def needs_engine(self) -> bool:
        return any(m.mode == "local-engine" for m in self.modes)

    async def start_engine(self) -> None:
        from .engine import default_db_path, start_engine

        db = self.options.engine_db or default_db_path()
        if db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = await start_engine(host="127.0.0.1", port=self.options.engine_port, db=db)
        except OSError as exc:
            raise StartupError(f"local engine: cannot listen on 127.0.0.1:{self.options.engine_port}: {exc.strerror or exc}") from None
        for mode in self.modes:
            if mode.mode == "local-engine":
                mode.upstream = self.engine.url
        for item in self.loaded:
            for mode in self.modes:
                if mode.mode == "local-engine" and mode.file == str(item.capability.file):
                    item.invoker.base_overrides[mode.namespace] = self.engine.url
        LOGGER.info("local engine started", extra={"url": self.engine.url, "page": f"{self.engine.url}/ui", "db": db})

    # -- serving ---------------------------------------------------------------------
    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        namespaces = [
            {"file": m.file, "namespace": m.namespace, "mode": m.mode, "upstream": m.upstream, "binds_resolved": m.binds_resolved}
            for m in self.modes
        ]
        ok = all(m.binds_resolved or m.mode != "live" for m in self.modes)
        if self.stopping:
            return False, {"stopping": True, "namespaces": namespaces}
        return ok, {"namespaces": namespaces}

    def _rest_groups(self, loaded: list[Loaded] | None = None) -> dict[tuple[str, int], list[Mounted]]:
        groups: dict[tuple[str, int], list[Mounted]] = {}
        for item in self.loaded if loaded is None else loaded:
            for adapter in item.capability.adapters:
                if isinstance(adapter, RestAdapter):
                    port = self.options.rest_port if self.options.rest_port is not None else adapter.port
                    host = self.options.host or adapter.address or "127.0.0.1"
                    groups.setdefault((host, port), []).append(Mounted(adapter, item.invoker))
        return groups

    def _mcp_adapters(self) -> list[tuple[McpAdapter, Loaded]]:
        return [
            (adapter, item)
            for item in self.loaded
            for adapter in item.capability.adapters
            if isinstance(adapter, McpAdapter)
        ]

    def _mcp_groups(self) -> dict[tuple[str, int], list[tuple[McpAdapter, Invoker]]]:
        """HTTP MCP adapters by listening address; those on one (non-zero) port are served as one server."""
        groups: dict[tuple[str, int], list[tuple[McpAdapter, Invoker]]] = {}
        for adapter, item in self._mcp_adapters():
            if self.options.stdio or adapter.transport == "stdio":
                continue
            port = self.options.mcp_port if self.options.mcp_port is not None else (adapter.port or 0)
            host = self.options.host or adapter.address or "127.0.0.1"
            key = (host, port) if port else (host, -len(groups) - 1)  # port 0: a free port of its own
            groups.setdefault(key, []).append((adapter, item.invoker))
        return groups

    async def _listen(self, app: web.Application, host: str, port: int, what: str) -> int:
        limits = self.options.connections
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=self.options.shutdown_grace,
                               **runner_settings(limits))
        await runner.setup()
        site = CappedSite(runner, host, port, limits.max_connections)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise StartupError(f"{what}: cannot listen on {host}:{port}: {reason}") from None
        self.runners.append(runner)
        bound = site.bound_port
        self.endpoints.append(f"{what} http://{host}:{bound}")
        LOGGER.info("listening", extra={"adapter": what, "address": f"http://{host}:{bound}"})
        return bound

    async def start(self) -> None:
        self.load()
        self._setup_tracing()
        if self.needs_engine:
            await self.start_engine()
        if self.options.metrics_port is not None or any(
            isinstance(a, OtherAdapter) and a.type == "control" for item in self.loaded for a in item.capability.adapters
        ):
            from .exposes.control import RuntimeMetrics

            self.metrics = RuntimeMetrics()
        for item in self.loaded:
            self._instrument(item.invoker)
        for (host, port), mounted in self._rest_groups().items():
            try:
                app = build_rest_app(mounted, self.readiness, max_body=self.options.max_body,
                                     body_timeout=self.options.connections.body_timeout, swappable=self.options.watch)
            except RouteConflict as exc:
                raise StartupError(f"route conflict: {exc}") from None
            names = ", ".join(m.adapter.namespace for m in mounted)
            bound = await self._listen(app, host, port, f"rest {names}")
            self.rest_apps[(host, port)] = app
            self.started.update({("rest", m.adapter.namespace): bound for m in mounted})
        for (host, port), group in self._mcp_groups().items():
            await self._start_mcp_http(group, host, max(port, 0))
        await self._start_other_adapters()
        if self.options.metrics_port is not None:
            from .exposes.control import build_metrics_app

            host = self.options.host or "127.0.0.1"
            await self._listen(build_metrics_app(self.metrics, self.readiness), host, self.options.metrics_port, "metrics")

    def _setup_tracing(self) -> None:
        """OpenTelemetry from the run's `OTEL_*` variables over the control adapters' `observability` blocks."""
        from .observability import plan_tracing

        controls = [(str(a.where or item.capability.file), a.observability, item.invoker.bind_context)
                    for item in self.loaded for a in item.capability.adapters if isinstance(a, ControlAdapter)]
        plan = plan_tracing(controls)
        for warning in plan.warnings:
            LOGGER.warning(warning)
        env = plan.environment(self.options.env)
        if (tracing.requested(env) or plan.needed) and tracing.setup(env, plan.local_buffer):
            tracing.instrument_pool(self.pool)

    def _instrument(self, invoker: Invoker) -> None:
        """Metrics and tracing wrap the invoker (each at most once); neither costs anything when off."""
        if self.metrics is not None:
            self.metrics.observe(invoker)
        tracing.instrument_invoker(invoker)

    def adapter_states(self) -> list[Any]:
        """Every declared adapter with its bound port and whether it is being served (for the control adapter)."""
        from .exposes.control import AdapterState

        states = []
        for item in self.loaded:
            for adapter in item.capability.adapters:
                key = (adapter.type, adapter.namespace)
                stdio = isinstance(adapter, McpAdapter) and (self.options.stdio or adapter.transport == "stdio")
                state = "started" if key in self.started or stdio else "stopped"
                states.append(AdapterState(adapter.type, adapter.namespace, self.started.get(key, adapter.port), state))
        return states

    async def _start_other_adapters(self) -> None:
        """Skill and control adapters: one server each, on the file's port unless --skill-port/--control-port."""
        others = [(a, item) for item in self.loaded for a in item.capability.adapters if isinstance(a, OtherAdapter)]
        metrics = self.metrics
        for adapter, item in others:
            host = self.options.host or adapter.address or "127.0.0.1"
            if adapter.type == "skill":
                from .exposes.skill import build_skill_app

                port = self.options.skill_port if self.options.skill_port is not None else (adapter.port or 0)
                app = build_skill_app(adapter, item.capability, self.readiness, item.invoker.bind_context)
            else:
                from .exposes.control import RuntimeMetrics, build_control_app

                if metrics is None:
                    metrics = RuntimeMetrics()
                    for loaded in self.loaded:
                        metrics.observe(loaded.invoker)
                port = self.options.control_port if self.options.control_port is not None else (adapter.port or 0)
                app = build_control_app(
                    adapter, item.capability, readiness=self.readiness, adapters=self.adapter_states,
                    metrics=metrics, bind_context=item.invoker.bind_context,
                    scripting=item.invoker.scripts.governance, traces=tracing.local_buffer(),
                )
            bound = await self._listen(app, host, port, f"{adapter.type} {adapter.namespace or ''}".strip())
            self.started[(adapter.type, adapter.namespace)] = bound

    async def _start_mcp_http(self, group: list[tuple[McpAdapter, Invoker]], host: str, port: int) -> None:
        from .exposes.mcp.http import serve_mcp_http
        from .exposes.mcp.shared import SharingConflict, merge

        try:
            adapter, invoker = merge(group)
        except SharingConflict as exc:
            raise StartupError(f"mcp port {port}: {exc}") from None
        try:
            server, task, bound = await serve_mcp_http(
                adapter, invoker, host, port, readiness=self.readiness, allowed_hosts=self.options.allowed_hosts,
                max_body=self.options.max_body, shutdown_grace=self.options.shutdown_grace,
                limits=self.options.connections,
            )
        except OSError as exc:
            reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise StartupError(f"mcp {adapter.namespace}: cannot listen on {host}:{port}: {reason}") from None
        self.servers.append(server)
        self.server_tasks.append(task)
        for member, _ in group:
            self.mcp_servers[member.namespace] = server
            self.started[("mcp", member.namespace)] = bound
        self.endpoints.append(f"mcp {adapter.namespace} http://{host}:{bound}/mcp")
        LOGGER.info("listening", extra={"adapter": f"mcp {adapter.namespace}", "address": f"http://{host}:{bound}/mcp"})

    # -- --watch ---------------------------------------------------------------------
    async def watch(self, interval: float | None = None) -> None:
        """Poll the files' modification times; reload a file whose content changed."""
        interval = self.options.watch_interval if interval is None else interval
        seen = {file: _signature(file) for file in self.options.files}
        contents = {file: _read(file) for file in self.options.files}
        while True:
            await asyncio.sleep(interval)
            for index, file in enumerate(self.options.files):
                signature = _signature(file)
                if signature == seen[file]:
                    continue
                seen[file] = signature
                text = _read(file)
                if text is None or text == contents[file]:
                    continue
                if await self.reload(index):
                    contents[file] = text

    async def reload(self, index: int) -> bool:
        """Swap in a new version of the file at `index`; on any problem keep serving the last good one."""
        file = self.options.files[index]
        try:
            item, modes = self.load_file(file)
            candidate = [*self.loaded[:index], item, *self.loaded[index + 1 :]]
            tables = {}
            for key, mounted in self._rest_groups(candidate).items():
                if key not in self.rest_apps:
                    raise StartupError(f"a REST adapter on a new address {key[0]}:{key[1]} needs a restart")
                tables[key] = build_routes(mounted, self.readiness)
            mcp = [a for a in item.capability.adapters if isinstance(a, McpAdapter) and a.transport != "stdio"]
            new_mcp = [a.namespace for a in mcp if a.namespace not in self.mcp_servers and not self.options.stdio]
            if new_mcp:
                raise StartupError(f"a new MCP adapter ({', '.join(new_mcp)}) needs a restart")
        except RouteConflict as exc:
            LOGGER.error("reload refused: still serving the last good version", extra={"file": str(file), "reason": f"route conflict: {exc}"})
            return False
        except StartupError as exc:
            LOGGER.error("reload refused: still serving the last good version", extra={"file": str(file), "reason": str(exc)})
            return False
        except Exception as exc:  # whatever goes wrong with an edit, the last good version keeps serving
            LOGGER.error("reload refused: still serving the last good version", extra={"file": str(file), "reason": f"{type(exc).__name__}: {exc}"})
            return False
        if any(m.mode == "local-engine" for m in modes):
            if self.engine is None:
                await self.start_engine()
            for mode in modes:
                if mode.mode == "local-engine":
                    mode.upstream = self.engine.url
                    item.invoker.base_overrides[mode.namespace] = self.engine.url
        self._instrument(item.invoker)
        self.loaded[index] = item
        self.modes = [m for m in self.modes if m.file != str(file)] + modes
        for key, app in self.rest_apps.items():
            app[ROUTES].swap(tables.get(key) or build_routes([], self.readiness))
        if mcp:
            from .exposes.mcp.http import swap_mcp
            from .exposes.mcp.shared import SharingConflict, merge

            reloaded = {a.namespace for a in mcp}
            for group in self._mcp_groups().values():
                if reloaded & {a.namespace for a, _ in group}:
                    server = self.mcp_servers.get(group[0][0].namespace)
                    if server is None:
                        continue
                    try:
                        swap_mcp(server, *merge(group))
                    except SharingConflict as exc:
                        LOGGER.error("reload of MCP tools refused", extra={"file": str(file), "reason": str(exc)})
        LOGGER.info("reloaded", extra={"file": str(file)})
        return True

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (bounded), close upstream sessions."""
        self.stopping = True
        for server in self.servers:
            server.should_exit = True
        if self.server_tasks:
            await asyncio.wait(self.server_tasks, timeout=self.options.shutdown_grace)
        for runner in reversed(self.runners):
            await runner.cleanup()
        if self.engine is not None:
            await self.engine.close()
        await self.pool.close()
        tracing.shutdown()


def _signature(file: Path) -> tuple[int, int] | None:
    try:
        stat = file.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _read(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError:
        return None


async def run_forever(options: RunOptions) -> None:
    runtime = Runtime(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
        # --stdio serves the first MCP adapter over stdin/stdout; without it, the one whose file says `transport: stdio`.
        declared = [(a, i) for a, i in runtime._mcp_adapters() if a.transport == "stdio"]
        if not options.stdio and len(declared) > 1:
            names = ", ".join(a.namespace for a, _ in declared)
            raise StartupError(f"MCP adapters {names} all declare transport: stdio; one process serves one of them on stdin/stdout")
        if options.stdio or declared:
            from .exposes.mcp.stdio import serve_mcp_stdio

            adapters = runtime._mcp_adapters() if options.stdio else declared
            if not adapters:
                raise StartupError("--stdio: no MCP adapter in the given files")
            adapter, item = adapters[0]
            stdio_task = asyncio.create_task(serve_mcp_stdio(adapter, item.invoker))
            stop_task = asyncio.create_task(stop.wait())
            await asyncio.wait({stdio_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            stop_task.cancel()
        else:
            for mode in runtime.modes:
                LOGGER.info("namespace", extra={"namespace": mode.namespace, "mode": mode.mode, "upstream": mode.upstream})
            LOGGER.info("ready", extra={"endpoints": runtime.endpoints})
            watcher = asyncio.create_task(runtime.watch(), name="watch") if options.watch else None
            await stop.wait()
            LOGGER.info("stopping")
            if watcher is not None:
                watcher.cancel()
    finally:
        await runtime.stop()
