"""The one diagnostics context a normalisation pass shares.

Every diagnostic is pinned to file:line:col, the field path, and the model part being read when it
was raised (`with ctx.part("tool", name): ...`). A part that cannot run is recorded in `disabled`
as data, so its action answers a clear error and the rest of the file still serves. Parts the schema
check already found broken arrive as `broken` (their document paths), so the model leaves them out or
stubs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import model as m
from ..diagnostics import Diagnostic, Part, PartKind
from ..yaml_source import JsonPath as YPath
from ..yaml_source import SourceMap

Loader = Callable[[Path], "tuple[Any, SourceMap] | None"]


class Context:
    """Where things are, what went wrong (and in which part), and the names resolved so far."""

    def __init__(
        self, source: SourceMap, file: Path, load_other: Loader, diagnostics: list[Diagnostic] | None = None,
        broken: dict[YPath, str] | None = None,
    ) -> None:
        self.source = source
        self.file = file
        self.load_other = load_other
        self.diagnostics: list[Diagnostic] = [] if diagnostics is None else diagnostics
        self.broken: dict[YPath, str] = dict(broken or {})
        self.disabled: dict[Part, str] = {}
        self.apis: dict[str, m.ConsumedApi] = {}
        self.aggregates: dict[str, m.Action] = {}
        self._parts: list[Part] = []

    def for_file(self, source: SourceMap, file: Path) -> Context:
        """A context for an imported file: its own positions and names, the same diagnostics."""
        return Context(source, file, self.load_other, self.diagnostics)

    # -- parts -----------------------------------------------------------------------
    @property
    def current(self) -> Part | None:
        return self._parts[-1] if self._parts else None

    @contextmanager
    def part(self, kind: PartKind, name: str) -> Iterator[Part]:
        """Diagnostics raised inside concern this part (named within the enclosing one)."""
        part = Part(kind, name, self.current)
        self._parts.append(part)
        try:
            yield part
        finally:
            self._parts.pop()

    def why_disabled(self, part: Part) -> str | None:
        """Why `part` is disabled: itself, a part enclosing it, or one of its steps (which it cannot run
        without; a broken parameter or hint is left out instead). None when it can run."""
        for p, why in self.disabled.items():
            if p in part.chain() or (p.kind == "step" and part in p.chain()):
                return why
        return None

    def broken_at(self, path: YPath) -> str | None:
        """Why the part at `path`, or one enclosing it, is disabled by a schema error; None when it is not."""
        broken = self.broken
        if not broken:  # the usual case: no part of the file is broken
            return None
        probe = tuple(path)
        for n in range(len(probe), 0, -1):
            why = broken.get(probe[:n])
            if why is not None:
                return why
        return None

    # -- diagnostics -----------------------------------------------------------------
    def where(self, path: YPath) -> m.Location:
        line, col = self.source.locate(path)
        return m.Location(self.source.file, line, col)

    def error(self, message: str, path: YPath, code: str = "semantic") -> None:
        """An error; inside a part it disables only that part (the file refuses only at `--strict`)."""
        inside = self.current is not None
        self._add("error", message, path, code, disables=inside)
        if self.current is not None:
            self.disabled.setdefault(self.current, self._located(message, path))

    def warn(self, message: str, path: YPath, code: str = "semantic") -> None:
        self._add("warning", message, path, code)

    def disable(self, reason: str, message: str, path: YPath, code: str) -> None:
        """The current part cannot run, for `reason` (it answers 503); the rest of the file still serves."""
        self._add("warning", message, path, code, disables=True)
        if self.current is not None:
            self.disabled.setdefault(self.current, self._located(reason, path))

    def _located(self, reason: str, path: YPath) -> str:
        line, col = self.source.locate(path)
        return f"{reason} ({self.source.file}:{line}:{col})"

    def _add(self, severity: str, message: str, path: YPath, code: str, disables: bool = False) -> None:
        line, col = self.source.locate(path)
        self.diagnostics.append(
            Diagnostic(severity, message, self.source.file, line, col, tuple(path), code, self.current, disables)  # type: ignore[arg-type]
        )
