"""Load a capability file: read, parse with positions, schema-check, normalise, check.

Two levels. The default accepts the deviations real published files make (each one a
warning saying what the runtime does); `strict` turns every schema violation into an
error, as `naftiko validate --strict` reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import checks
from .compat import reclassify
from .deviations import DEVIATIONS, severity
from .diagnostics import Diagnostic, Part, SpecError
from .model import Capability
from .normalize import Normalizer
from .schema import check_schema
from .yaml_source import SourceMap, parse_yaml, read_text

SUPPORTED_VERSIONS = ("1.0.0-alpha2",)


@dataclass
class LoadResult:
    file: str
    capability: Capability | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def disabled(self) -> dict[Part, str]:
        """Parts that cannot run (each answers 502) and why; the rest of the file serves."""
        return {d.part: d.message for d in self.diagnostics if d.disables and d.part is not None}

    @property
    def ok(self) -> bool:
        return self.capability is not None and not self.errors


def _read(path: Path) -> tuple[Any, SourceMap]:
    doc = parse_yaml(read_text(path), str(path))
    return doc.data, doc.source


def _schema_diagnostics(data: Any, source: SourceMap, strict: bool) -> list[Diagnostic]:
    out = []
    for issue in (reclassify(i, data) for i in check_schema(data)):
        if issue.keyword == "additionalProperties" and issue.fields:
            line, col = source.locate(tuple(issue.path) + (issue.fields[0],), key=True)  # point at the key itself
        else:
            line, col = source.locate(issue.path)
        level = severity(issue.deviation, strict=strict)
        if level == "warning":
            message = f"{issue.message} (tolerated: {DEVIATIONS[issue.deviation or ''].runtime})"
            out.append(Diagnostic.warning(message, source.file, line, col, issue.path, issue.deviation or ""))
        else:
            out.append(Diagnostic.error(issue.message, source.file, line, col, issue.path, issue.deviation or "schema"))
    return out


def load(path: str | Path, *, strict: bool = False) -> LoadResult:
    """Never raises for a bad file: everything wrong is in `diagnostics`."""
    file = Path(path)
    name = str(path)
    try:
        data, source = _read(file)
    except SpecError as exc:
        return LoadResult(name, None, exc.diagnostics)
    source.file = name
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "empty" if data is None else "a single value"
        return LoadResult(name, None, [Diagnostic.error(f"a capability file is a YAML mapping; this one is {kind}", name, 1, 1, (), "yaml")])
    version = data.get("naftiko")
    if version not in SUPPORTED_VERSIONS:
        line, col = source.locate(("naftiko",))
        message = (
            "missing 'naftiko: 1.0.0-alpha2' at the top" if version is None
            else f"naftiko version '{version}' is not supported (supported: {', '.join(SUPPORTED_VERSIONS)})"
        )
        return LoadResult(name, None, [Diagnostic.error(message, name, line, col, ("naftiko",), "version")])
    diagnostics = _schema_diagnostics(data, source, strict)

    def load_other(target: Path) -> tuple[Any, SourceMap] | None:
        try:
            return _read(target)
        except SpecError as exc:
            diagnostics.extend(exc.diagnostics)
            return None

    normalizer = Normalizer(data, source, file, load_other)
    capability = normalizer.capability()
    diagnostics.extend(normalizer.diagnostics)
    diagnostics.extend(checks.check(capability))
    if strict:
        diagnostics = [_strict(d) for d in diagnostics]
    diagnostics.sort(key=lambda d: (d.file != name, d.file, d.line, d.col))
    return LoadResult(name, capability, _dedupe(diagnostics))


def _strict(d: Diagnostic) -> Diagnostic:
    """A warning the deviation table makes an error at `--strict` (others keep their severity)."""
    if d.severity == "warning" and severity(d.code, strict=True) == "error":
        return replace(d, severity="error")
    return d


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diagnostics:
        key = (d.file, d.line, d.col, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
