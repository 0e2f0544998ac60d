"""Turn a capability document (plain data + positions) into the typed model.

Tolerant by design: the schema check has already reported what is invalid, so this
reads what is there, fills defaults, compiles templates and JSONPaths, resolves every
`call` and `ref`, and reports what only a reader of the whole file can see. One
:class:`~.context.Context` carries the diagnostics, each attached to the part it concerns;
`consumes`, `actions` and `exposes` normalise what their names say.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import model as m
from ..diagnostics import Diagnostic
from ..yaml_source import JsonPath as YPath
from ..yaml_source import SourceMap
from . import actions, consumes, exposes
from .context import Context, Loader
from .values import as_dict, as_list, as_str

__all__ = ["Context", "Loader", "Normalizer"]


class Normalizer:
    """One pass over one document; collects diagnostics instead of stopping at the first."""

    def __init__(
        self, data: dict[str, Any], source: SourceMap, file: Path, load_other: Loader, broken: dict[YPath, str] | None = None
    ) -> None:
        """`broken`: document paths of parts the schema check found broken, and why (they are left out or stubbed)."""
        self.data = data
        self.ctx = Context(source, file, load_other, broken=broken)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.ctx.diagnostics

    def capability(self) -> m.Capability:
        ctx, data = self.ctx, self.data
        info = as_dict(data.get("info"))
        cap = as_dict(data.get("capability"))
        binds = [
            consumes.bind(ctx, b, path)
            for at, raw in ((("binds",), data.get("binds")), (("capability", "binds"), cap.get("binds")))
            for i, b in enumerate(as_list(raw))
            for path in [at + (i,)]
            if isinstance(b, dict) and ctx.broken_at(path) is None
        ]
        consumes_path: YPath = ("capability", "consumes") if cap else ("consumes",)
        consumes_raw = cap.get("consumes") if cap else data.get("consumes")
        for i, entry in enumerate(as_list(consumes_raw)):
            if isinstance(entry, dict) and ctx.broken_at(consumes_path + (i,)) is None:
                for api in consumes.consumes_entry(ctx, entry, consumes_path + (i,)):
                    consumes.add_api(ctx, api, consumes_path + (i,))
        for i, agg in enumerate(as_list(cap.get("aggregates"))):
            if isinstance(agg, dict):
                actions.aggregate(ctx, agg, ("capability", "aggregates", i))
        adapters: list[m.Adapter] = []
        for i, raw in enumerate(as_list(cap.get("exposes"))):
            if isinstance(raw, dict) and ctx.broken_at(("capability", "exposes", i)) is None:
                adapter = exposes.adapter(ctx, raw, ("capability", "exposes", i))
                if adapter is not None:
                    adapters.append(adapter)
        return m.Capability(
            file=ctx.file,
            label=as_str(info.get("label", info.get("title", info.get("name")))),
            description=as_str(info.get("description")),
            binds=binds,
            consumes=list(ctx.apis.values()),
            adapters=adapters,
            aggregates=ctx.aggregates,
            spec_version=as_str(data.get("naftiko")),
        )
