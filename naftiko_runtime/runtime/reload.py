"""`--watch`: reload an edited file into every adapter server that serves it, or keep the last good version.

A reload is prepared completely (load, validate, bind, route tables, merged MCP servers)
before anything is swapped, so a refused edit leaves every server as it was.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..exposes.rest.app import Mounted, RouteConflict
from ..logs import LOGGER
from .invokers import build_invoker
from .options import StartupError
from .plan import plan_file

if TYPE_CHECKING:
    from ..invoke.invoker import Invoker
    from .invokers import Pool
    from .options import RunOptions
    from .plan import Plan
    from .servers.control import ControlServer
    from .servers.mcp import McpHttpServer
    from .servers.rest import RestServer
    from .servers.skill import SkillServer
    from .servers.stdio import StdioServer


class Runtime(Protocol):
    """What a reload reads and swaps of the running `run.Runtime` (a protocol: `run` imports this module)."""

    options: RunOptions
    plan: Plan
    layers: Pool
    metrics: Any
    invokers: list[Invoker]
    rest: dict[tuple[str, int], RestServer]
    mcp: dict[tuple[str, int], McpHttpServer]
    skills: list[SkillServer]
    controls: list[ControlServer]
    stdio: StdioServer | None

    @property
    def engine_url(self) -> str | None: ...

    async def start_engine(self) -> None: ...


def _refused(file: Path, reason: str) -> bool:
    LOGGER.error("reload refused: still serving the last good version", extra={"file": str(file), "reason": reason})
    return False


async def reload(runtime: Runtime, index: int) -> bool:
    """Swap in a new version of the file at `index`; on any problem keep serving the last good one."""
    file = runtime.options.files[index]
    try:
        swaps = await _prepare(runtime, index)
    except RouteConflict as exc:
        return _refused(file, f"route conflict: {exc}")
    except StartupError as exc:
        return _refused(file, str(exc))
    except Exception as exc:  # whatever goes wrong with an edit, the last good version keeps serving
        return _refused(file, f"{type(exc).__name__}: {exc}")
    for swap in swaps:
        swap()
    LOGGER.info("reloaded", extra={"file": str(file)})
    return True


async def _prepare(runtime: Runtime, index: int) -> list[Any]:
    """Everything a reload of entry `index` changes, as calls that cannot fail; raises when it must be refused."""
    options = runtime.options
    if not options.watch:
        raise StartupError("hot reload needs --watch")
    entry = plan_file(options.files[index], options)
    plan = runtime.plan.replaced(index, entry)
    new_rest = set(plan.rest_groups()) - set(runtime.rest)
    if new_rest:
        host, port = min(new_rest)
        raise StartupError(f"a REST adapter on a new address {host}:{port} needs a restart")
    mcp_servers = {ns: server for server in runtime.mcp.values() for ns in server.namespaces}
    mcp_groups = list(plan.mcp_groups().values())
    new_mcp = [a.namespace for group in mcp_groups for a, _ in group if a.namespace not in mcp_servers]
    if new_mcp:
        raise StartupError(f"a new MCP adapter ({', '.join(new_mcp)}) needs a restart")
    others = {(s.kind, s.namespace): s for s in [*runtime.skills, *runtime.controls]}
    new_others = [f"{a.type} {a.namespace or ''}".strip() for kind in ("skill", "control")
                  for a, i in plan.other_adapters(kind) if i == index and (kind, a.namespace) not in others]
    if new_others:
        raise StartupError(f"a new adapter ({', '.join(new_others)}) needs a restart")
    if entry.needs_engine:
        await runtime.start_engine()
    invoker = build_invoker(entry, runtime.layers, runtime.engine_url, runtime.metrics)
    invokers = [*runtime.invokers[:index], invoker, *runtime.invokers[index + 1 :]]

    swaps: list[Any] = []
    rest_groups = plan.rest_groups()
    for key, server in runtime.rest.items():
        mounted = [Mounted(a, invokers[i]) for a, i in rest_groups.get(key, [])]
        table = server.prepare(mounted)
        swaps.append(lambda server=server, mounted=mounted, table=table: server.swap(mounted, table))
    for group in mcp_groups:
        if any(i == index for _, i in group):
            members = [(a, invokers[i]) for a, i in group]
            server = mcp_servers[group[0][0].namespace]
            server.prepare(members)
            swaps.append(lambda server=server, members=members: server.swap(members))
    for kind in ("skill", "control"):
        for adapter, i in plan.other_adapters(kind):
            if i == index:
                other = others[(kind, adapter.namespace)]
                swaps.append(lambda other=other, adapter=adapter: other.swap(adapter, invoker))
    stdio = runtime.stdio
    if stdio is not None:
        for adapter, i in plan.stdio_adapters():
            if i == index and adapter.namespace == stdio.adapter.namespace:
                swaps.append(lambda adapter=adapter: stdio.swap(adapter, invoker))

    def commit() -> None:
        runtime.plan = plan
        runtime.invokers = invokers

    return [commit, *swaps]


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


async def watch(runtime: Runtime, interval: float) -> None:
    """Poll the files' modification times; reload a file whose content changed."""
    files = runtime.options.files
    seen = {file: _signature(file) for file in files}
    contents = {file: _read(file) for file in files}
    while True:
        await asyncio.sleep(interval)
        for index, file in enumerate(files):
            signature = _signature(file)
            if signature == seen[file]:
                continue
            seen[file] = signature
            text = await asyncio.to_thread(_read, file)
            if text is None or text == contents[file]:
                continue
            if await reload(runtime, index):
                contents[file] = text
