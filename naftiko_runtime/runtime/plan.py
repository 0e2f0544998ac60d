"""The plan: which files, binds, namespace modes and base URIs a run serves — decisions only.

`naftiko run`, `naftiko call`, `inspect` and `validate` share it, so a namespace goes to the
same place (its baseUri, the local engine, or an `--upstream`) whichever command asks.
Nothing here opens a socket; the servers and the engine are started from the plan by `run.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..binding.binds import BindValues, resolve_capability_binds
from ..capability.loader import load
from ..capability.model import (
    Capability,
    Disabled,
    McpAdapter,
    OtherAdapter,
    RestAdapter,
)
from ..capability.resolution import GUESSED_CALLS
from ..capability.schema import serving_backend
from ..invoke.auth import register_secrets
from ..logs import LOGGER
from .listening import listening
from .options import RunOptions, StartupError

ENGINE_HOSTS = ("api.humanitec.io", "api.inngest.com")
# Local-only APIs (no public host) name the engine's own default address as their baseUri.
ENGINE_LOCAL_BASES = (("localhost", 8700), ("127.0.0.1", 8700))


@dataclass
class NamespaceMode:
    file: str
    namespace: str
    mode: str  # live | local-engine | override
    upstream: str
    binds_resolved: bool

    def target(self, engine_url: str | None) -> str:
        """Where calls go: the local engine's address once it runs, else the decided upstream."""
        return (engine_url or "") if self.mode == "local-engine" else self.upstream

    def as_json(self, engine_url: str | None = None) -> dict[str, object]:
        return {"file": self.file, "namespace": self.namespace, "mode": self.mode, "upstream": self.target(engine_url),
                "binds_resolved": self.binds_resolved}


@dataclass
class PlanEntry:
    """One capability file as it will be served."""

    capability: Capability
    binds: BindValues
    modes: list[NamespaceMode]
    overrides: dict[str, str] = field(default_factory=dict)  # --upstream, namespace (or *) -> URL

    @property
    def file(self) -> str:
        return str(self.capability.file)

    @property
    def needs_engine(self) -> bool:
        return any(m.mode == "local-engine" for m in self.modes)

    def base_overrides(self, engine_url: str | None) -> dict[str, str]:
        """Where each namespace goes instead of its baseUri: `--upstream`, then the local engine."""
        out = dict(self.overrides)
        if engine_url is not None:
            for mode in self.modes:
                if mode.mode == "local-engine":
                    out[mode.namespace] = engine_url
        return out

    def adapters(self, kind: type) -> list[Any]:
        return [a for a in self.capability.adapters if isinstance(a, kind)]


def engine_candidate(base_uri: str) -> bool:
    try:
        parts = urlsplit(base_uri)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # not a URL (`http://[array]`): a load warning, and calls through it answer 502
        return False
    return host in ENGINE_HOSTS or (host, port) in ENGINE_LOCAL_BASES


def _namespace_binds(cap: Capability, namespace: str, binds: BindValues) -> bool:
    """Whether the binds this namespace needs resolve (all of the file's binds when it names none)."""
    api = cap.api(namespace)
    names = api.bind_names() if api is not None else set()
    relevant = [s for s in binds.status if not names or s.var in names]
    return all(s.resolved for s in relevant)


def decide_modes(cap: Capability, binds: BindValues, upstreams: dict[str, str], mode: str) -> list[NamespaceMode]:
    """Live, local engine or override for each consumed namespace; StartupError when `live` cannot be honoured."""
    file = str(cap.file)
    modes: list[NamespaceMode] = []
    for api in cap.consumes:
        resolved = _namespace_binds(cap, api.namespace, binds)
        explicit = upstreams.get(api.namespace) or upstreams.get("*")
        if explicit:
            modes.append(NamespaceMode(file, api.namespace, "override", explicit, resolved))
        elif engine_candidate(api.base_uri) and mode != "live" and (mode == "local" or not resolved):
            modes.append(NamespaceMode(file, api.namespace, "local-engine", "", resolved))
        else:
            if mode == "live" and not resolved:
                missing = ", ".join(f"{s.var} (from {s.source})" for s in binds.status if not s.resolved)
                raise StartupError(f"{file}: namespace '{api.namespace}' runs live but its binds do not resolve: {missing}")
            modes.append(NamespaceMode(file, api.namespace, "live", api.base_uri, resolved))
    return modes


#: What a namespace served by the local engine sends for a credential its binds leave unset: the
#: engine requires a well-formed bearer token (seed 001) and accepts any, so calls carry this one
#: rather than an empty `Bearer`. Never sent to a live upstream.
LOCAL_ENGINE_TOKEN = "naftiko-local-engine"


def _stand_in_credentials(cap: Capability, binds: BindValues, modes: list[NamespaceMode]) -> None:
    """Fill the unset binds that only local-engine namespaces read with `LOCAL_ENGINE_TOKEN`."""
    local = {m.namespace for m in modes if m.mode == "local-engine"}
    if not local:
        return
    every = {s.var for s in binds.status}
    read_locally: set[str] = set()
    read_elsewhere: set[str] = set()
    for api in cap.consumes:
        names = api.bind_names() or every  # a namespace that names none reads them all
        (read_locally if api.namespace in local else read_elsewhere).update(names)
    for status in binds.status:
        if not status.resolved and status.var in read_locally - read_elsewhere and not binds.values.get(status.var):
            binds.values[status.var] = LOCAL_ENGINE_TOKEN
            binds.by_namespace.setdefault(status.namespace, {})[status.var] = LOCAL_ENGINE_TOKEN


def plan_file(file: Path, options: RunOptions) -> PlanEntry:
    """Load, validate and bind one file and decide each namespace's mode; StartupError if it cannot serve.

    At the default level only an error of the file as a whole refuses it; a broken part is disabled
    (listed at start, in readiness and by `inspect`) and the rest is served. `--strict` refuses any error.
    """
    result = load(file, backend=serving_backend())
    refused = result.refused(strict=options.strict)
    if refused or result.capability is None:
        raise StartupError("\n".join(str(d) for d in refused) or f"{file}: cannot be loaded")
    for warning in result.warnings:  # a guessed call sends traffic where the file does not literally say: shown
        (LOGGER.warning if warning.code in GUESSED_CALLS else LOGGER.debug)(str(warning))
    cap = result.capability
    for part in cap.disabled:  # the start report: each broken part, where, and why
        LOGGER.warning(str(part))
    binds = resolve_capability_binds(cap, options.env)
    register_secrets(cap, binds)
    modes = decide_modes(cap, binds, options.upstreams, options.mode)
    _stand_in_credentials(cap, binds, modes)
    return PlanEntry(cap, binds, modes, dict(options.upstreams))


@dataclass
class Plan:
    """Every file of a run, in the order given."""

    options: RunOptions
    entries: list[PlanEntry]

    @classmethod
    def build(cls, options: RunOptions) -> Plan:
        return cls(options, [plan_file(f, options) for f in options.files])

    @property
    def modes(self) -> list[NamespaceMode]:
        return [m for e in self.entries for m in e.modes]

    @property
    def needs_engine(self) -> bool:
        return any(e.needs_engine for e in self.entries)

    @property
    def disabled(self) -> list[Disabled]:
        """The parts of every file that are not served (each with its location and reason)."""
        return [d for e in self.entries for d in e.capability.disabled]

    def replaced(self, index: int, entry: PlanEntry) -> Plan:
        return Plan(self.options, [*self.entries[:index], entry, *self.entries[index + 1 :]])

    def host(self, adapter: RestAdapter | McpAdapter | OtherAdapter) -> str:
        return self.options.host or adapter.address or "127.0.0.1"

    def rest_groups(self) -> dict[tuple[str, int], list[tuple[RestAdapter, int]]]:
        """REST adapters by listening address, with the index of their entry; one server per address."""
        groups: dict[tuple[str, int], list[tuple[RestAdapter, int]]] = {}
        if not listening(self.options).rest:  # --stdio without --rest-port
            return groups
        for index, entry in enumerate(self.entries):
            for adapter in entry.adapters(RestAdapter):
                port = self.options.rest_port if self.options.rest_port is not None else adapter.port
                groups.setdefault((self.host(adapter), port), []).append((adapter, index))
        return groups

    def stdio(self, adapter: McpAdapter) -> bool:
        return self.options.stdio or adapter.transport == "stdio"

    def mcp_groups(self) -> dict[tuple[str, int], list[tuple[McpAdapter, int]]]:
        """HTTP MCP adapters by listening address; those on one (non-zero) port are served as one server.

        `--mcp-port` (0 included, as `--rest-port 0`) puts them all on one port; a file's `port: 0`
        asks for a free port of the adapter's own, a group keyed by a negative number.
        """
        groups: dict[tuple[str, int], list[tuple[McpAdapter, int]]] = {}
        for index, entry in enumerate(self.entries):
            for adapter in entry.adapters(McpAdapter):
                if self.stdio(adapter):
                    continue
                host = self.host(adapter)
                if self.options.mcp_port is not None:
                    key = (host, self.options.mcp_port)
                else:
                    key = (host, adapter.port) if adapter.port else (host, -len(groups) - 1)
                groups.setdefault(key, []).append((adapter, index))
        return groups

    def stdio_adapters(self) -> list[tuple[McpAdapter, int]]:
        return [(a, i) for i, e in enumerate(self.entries) for a in e.adapters(McpAdapter) if self.stdio(a)]

    def other_adapters(self, kind: str) -> list[tuple[OtherAdapter, int]]:
        """Skill or control adapters, with the index of their entry (none with --stdio unless their port is given)."""
        served = listening(self.options)
        if not (served.skill if kind == "skill" else served.control):
            return []
        return [(a, i) for i, e in enumerate(self.entries) for a in e.adapters(OtherAdapter) if a.type == kind]

    def other_port(self, adapter: OtherAdapter) -> int:
        flag = self.options.skill_port if adapter.type == "skill" else self.options.control_port
        return flag if flag is not None else (adapter.port or 0)

    @property
    def wants_metrics(self) -> bool:
        return self.options.metrics_port is not None or bool(self.other_adapters("control"))
