"""Errors and warnings about a capability file, each pinned to file:line:col, a field path and the
model part it concerns (so a caller can disable that part and keep serving the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

#: Kinds of model part a diagnostic can concern.
PartKind = Literal[
    "bind", "consumes", "operation", "adapter", "route", "tool", "resource", "prompt", "skill",
    "function", "step", "parameter", "hint",
]

#: Parts whose defect leaves the enclosing part able to run: the parameter is left out, the hint ignored.
LEAF_KINDS: frozenset[str] = frozenset({"parameter", "hint"})


@dataclass(frozen=True)
class Part:
    """One part of a capability, named within its enclosing part: e.g. tool 'search' of adapter 'api'."""

    kind: PartKind
    name: str
    within: Part | None = None

    def chain(self) -> tuple[Part, ...]:
        """This part and every part enclosing it, innermost first."""
        return (self, *self.within.chain()) if self.within else (self,)

    def __str__(self) -> str:
        own = f"{self.kind} '{self.name}'"
        return f"{own} of {self.within}" if self.within else own

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "within": self.within.as_json() if self.within else None}


def format_path(path: tuple[str | int, ...]) -> str:
    """`("capability", "exposes", 0, "port")` -> `capability.exposes[0].port`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    message: str
    file: str
    line: int
    col: int
    path: tuple[str | int, ...] = ()
    code: str = ""
    part: Part | None = None  # the model part concerned (None: the file as a whole)
    disables: bool = False  # the part is disabled (answers 503, or is left out); the rest of the file serves

    @classmethod
    def error(
        cls, message: str, file: str, line: int, col: int, path: tuple[str | int, ...] = (), code: str = "", part: Part | None = None
    ) -> Diagnostic:
        return cls("error", message, file, line, col, tuple(path), code, part)

    @classmethod
    def warning(
        cls, message: str, file: str, line: int, col: int, path: tuple[str | int, ...] = (), code: str = "", part: Part | None = None
    ) -> Diagnostic:
        return cls("warning", message, file, line, col, tuple(path), code, part)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.line else self.file

    @property
    def field(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        field = f" [{self.field}]" if self.path else ""
        return f"{where}: {self.severity}: {self.message}{field}"

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.col,
            "severity": self.severity,
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "part": self.part.as_json() if self.part else None,
        }


class SpecError(Exception):
    """A capability file cannot be used; carries every error found."""

    def __init__(self, *diagnostics: Diagnostic) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in diagnostics))
