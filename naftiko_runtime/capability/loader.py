"""Load a capability file: read, parse with positions, schema-check, normalise, check.

Two levels. The default accepts the deviations real published files make (each one a
warning saying what the runtime does); `strict` turns every schema violation into an
error, as `naftiko validate --strict` reports them.

Every error is attached to the smallest part of the file it lies in (parameter or hint, operation,
tool or route, resource, consumes or adapter). `validate` reports errors as errors at both levels;
serving at the default level (`servable`) disables only the broken parts, and refuses a file only
for an error no smaller part than the file encloses. At `strict`, any error refuses the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import checks
from .compat import reclassify
from .deviations import DEVIATIONS, severity
from .diagnostics import Diagnostic, Part, SpecError
from .model import Capability, Disabled, Location
from .normalize import Normalizer
from .parts import enclosing_part
from .schema import check_schema
from .yaml_source import SourceMap, parse_yaml, read_text

SUPPORTED_VERSIONS = ("1.0.0-alpha2",)
#: Earlier versions published files still declare: read by alpha2's rules (`version-previous-alpha`), refused at `--strict`.
READ_AS_ALPHA2 = ("1.0.0-alpha1",)


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
        """Parts that are not served (left out, or answering 503) and why; the rest of the file serves."""
        out: dict[Part, str] = {}
        for d in self.diagnostics:
            if d.disables and d.part is not None:
                out.setdefault(d.part, f"{d.message} ({d.where})")
        return out

    @property
    def refusals(self) -> list[Diagnostic]:
        """Errors that belong to the file as a whole: with any of these nothing is served."""
        return [d for d in self.errors if not d.disables]

    @property
    def ok(self) -> bool:
        """Valid: no error at all (what `naftiko validate` reports)."""
        return self.capability is not None and not self.errors

    @property
    def servable(self) -> bool:
        """Can be served, its disabled parts aside (at `strict` this is `ok`)."""
        return self.capability is not None and not self.refusals

    def refused(self, *, strict: bool) -> list[Diagnostic]:
        """Why serving refuses the file: any error with `strict` (today's rule), else only the file's own errors."""
        if self.capability is None:
            return self.errors or self.refusals
        return self.errors if strict else self.refusals


def _read(path: Path) -> tuple[Any, SourceMap]:
    doc = parse_yaml(read_text(path), str(path))
    return doc.data, doc.source


def _schema_diagnostics(data: Any, source: SourceMap, strict: bool, broken: dict[tuple[str | int, ...], str],
                        backend: str | None) -> list[Diagnostic]:
    """The schema's verdicts, each attached to the part it lies in; `broken` gets each broken part's path."""
    out = []
    for issue in (reclassify(i, data) for i in check_schema(data, backend=backend)):
        where = tuple(issue.path)
        if issue.keyword == "additionalProperties" and issue.fields:
            where = where + (issue.fields[0],)  # the unknown field: it may be a part itself (a hint)
            line, col = source.locate(where, key=True)  # point at the key itself
        else:
            line, col = source.locate(issue.path)
        level = severity(issue.deviation, strict=strict)
        if level == "warning":
            message = f"{issue.message} (tolerated: {DEVIATIONS[issue.deviation or ''].runtime})"
            out.append(Diagnostic.warning(message, source.file, line, col, issue.path, issue.deviation or ""))
            continue
        if not strict and len(where) == 1 and issue.keyword == "additionalProperties":
            message = f"{issue.message} (ignored: nothing reads it)"
            out.append(Diagnostic.warning(message, source.file, line, col, issue.path, "unknown-top-level-field"))
            continue
        found = enclosing_part(data, where)
        if found is None:
            out.append(Diagnostic.error(issue.message, source.file, line, col, issue.path, issue.deviation or "schema"))
            continue
        part, at = found
        if not strict:  # at `strict` the file is refused: the model stays whole, for every diagnostic it yields
            broken.setdefault(at, f"{issue.message} ({source.file}:{line}:{col})")
        out.append(Diagnostic("error", issue.message, source.file, line, col, tuple(issue.path), issue.deviation or "schema", part, not strict))
    return out


def load(path: str | Path, *, strict: bool = False, backend: str | None = None) -> LoadResult:
    """Never raises for a bad file: everything wrong is in `diagnostics`.

    `backend`: the schema backend to check with (both give the same diagnostics), else :func:`.schema.schema_backend`.
    """
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
    if version not in SUPPORTED_VERSIONS and version not in READ_AS_ALPHA2:
        line, col = source.locate(("naftiko",))
        message = (
            "missing 'naftiko: 1.0.0-alpha2' at the top" if version is None
            else f"naftiko version '{version}' is not supported (supported: {', '.join(SUPPORTED_VERSIONS)})"
        )
        return LoadResult(name, None, [Diagnostic.error(message, name, line, col, ("naftiko",), "version")])
    broken: dict[tuple[str | int, ...], str] = {}
    diagnostics = _schema_diagnostics(data, source, strict, broken, backend)

    def load_other(target: Path) -> tuple[Any, SourceMap] | None:
        try:
            return _read(target)
        except SpecError as exc:
            # why the shared file cannot be read; only the consumes that imports it is disabled (the normaliser
            # reports that, located at its `location`), and `--strict` refuses the file
            diagnostics.extend(replace(d, disables=d.severity == "error") for d in exc.diagnostics)
            return None

    normalizer = Normalizer(data, source, file, load_other, broken)
    capability = normalizer.capability()
    diagnostics.extend(normalizer.diagnostics)
    diagnostics.extend(checks.check(capability))
    if strict:
        diagnostics = [_strict(d) for d in diagnostics]
    elif not capability.adapters and any(d.disables for d in diagnostics):
        line, col = source.locate(("capability", "exposes"))
        diagnostics.append(Diagnostic.error("nothing left to serve: every exposed adapter is disabled", name, line, col,
                                            ("capability", "exposes"), "nothing-served"))
    diagnostics.sort(key=lambda d: (d.file != name, d.file, d.line, d.col))
    diagnostics = _dedupe(diagnostics)
    capability.disabled = _disabled(diagnostics)
    return LoadResult(name, capability, diagnostics)


def _strict(d: Diagnostic) -> Diagnostic:
    """At `--strict` every error refuses the file, and a warning the deviation table makes an error is one."""
    if d.severity == "warning" and severity(d.code, strict=True) == "error":
        return replace(d, severity="error", disables=False)
    return replace(d, disables=False) if d.severity == "error" else d


def _disabled(diagnostics: list[Diagnostic]) -> list[Disabled]:
    """Each disabled part once, with its first defect."""
    out: dict[Part, Disabled] = {}
    for d in diagnostics:
        if d.disables and d.part is not None and d.part not in out:
            out[d.part] = Disabled(str(d.part), d.part.kind, d.message, Location(d.file, d.line, d.col))
    return list(out.values())


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diagnostics:
        key = (d.file, d.line, d.col, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
