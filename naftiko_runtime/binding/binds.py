"""Resolve `binds`: keys from the environment or from a `location` file (YAML, JSON, dotenv).

Resolved values are secrets: they are collected in `BindValues.secrets` so that logs,
error bodies and exports can redact them wherever they appear.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ..capability.diagnostics import Diagnostic
from ..capability.locations import resolve_location
from ..capability.model import Bind, Capability


@dataclass
class BindStatus:
    namespace: str
    var: str
    source: str
    resolved: bool
    origin: str


@dataclass
class BindValues:
    """Resolved bind values, addressable as `{{VAR}}` and `{{namespace.VAR}}`."""

    values: dict[str, str] = field(default_factory=dict)
    by_namespace: dict[str, dict[str, str]] = field(default_factory=dict)
    status: list[BindStatus] = field(default_factory=list)

    @property
    def secrets(self) -> set[str]:
        return {v for v in self.values.values() if v}

    def context(self) -> dict[str, Any]:
        ctx: dict[str, Any] = dict(self.values)
        for ns, vals in self.by_namespace.items():
            ctx.setdefault(ns, vals)
        return ctx


def _read_dotenv(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def read_location(location: str, base: Path) -> dict[str, Any]:
    """Read a bind file; raises OSError or ValueError with a readable message."""
    path = resolve_location(location, base)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
    elif path.suffix in (".env",) or path.name.startswith(".env"):
        data = _read_dotenv(text)
    else:
        data = YAML(typ="safe", pure=True).load(text)  # libyaml's composer recurses in C: crashes on deep nesting
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a mapping of keys")
    return data


def _lookup(data: Mapping[str, Any], key: str) -> Any:
    if key in data:
        return data[key]
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def resolve_binds(binds: list[Bind], env: Mapping[str, str] | None = None) -> BindValues:
    """Resolve every bind; a missing key is recorded, never raised (callers decide if it matters)."""
    env = os.environ if env is None else env
    out = BindValues()
    for bind in binds:
        file_data: dict[str, Any] | None = None
        origin = "environment"
        if bind.location:
            origin = bind.location
            try:
                file_data = read_location(bind.location, bind.base_dir)
            except (OSError, ValueError) as exc:
                origin = f"{bind.location} (unreadable: {getattr(exc, 'strerror', None) or exc})"
                file_data = {}
        ns_values = out.by_namespace.setdefault(bind.namespace, {})
        for var, source_key in bind.keys.items():
            value = _lookup(file_data, source_key) if file_data is not None else env.get(source_key)
            if value is None and file_data is not None:
                value = env.get(var)
            resolved = value is not None and value != ""
            if resolved:
                text = value if isinstance(value, str) else json.dumps(value)
                out.values[var] = text
                ns_values[var] = text
            out.status.append(BindStatus(bind.namespace, var, source_key, resolved, origin))
    return out


def resolve_capability_binds(cap: Capability, env: Mapping[str, str] | None = None) -> BindValues:
    return resolve_binds(cap.binds, env)


def unresolved_diagnostics(cap: Capability, values: BindValues) -> list[Diagnostic]:
    """A warning per bind key that does not resolve here: `naftiko run` needs it only for a live upstream."""
    out = []
    where = {b.namespace: b.where for b in cap.binds}
    for status in values.status:
        if status.resolved:
            continue
        loc = where.get(status.namespace)
        source = f"environment variable {status.source}" if status.origin == "environment" else f"key '{status.source}' in {status.origin}"
        out.append(
            Diagnostic.warning(
                f"bind '{status.namespace}.{status.var}' does not resolve here ({source} is not set); naftiko run needs "
                "it only for a live upstream, and serves Humanitec and Inngest namespaces from the local engine without it",
                loc.file if loc else str(cap.file), loc.line if loc else 0, loc.col if loc else 0, (), "unresolved-bind",
            )
        )
    return out
