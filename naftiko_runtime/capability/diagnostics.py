"""Errors and warnings about a capability file, each pinned to file:line:col and a field path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


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

    @classmethod
    def error(cls, message: str, file: str, line: int, col: int, path: tuple = (), code: str = "") -> "Diagnostic":
        return cls("error", message, file, line, col, tuple(path), code)

    @classmethod
    def warning(cls, message: str, file: str, line: int, col: int, path: tuple = (), code: str = "") -> "Diagnostic":
        return cls("warning", message, file, line, col, tuple(path), code)

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
        }


class SpecError(Exception):
    """A capability file cannot be used; carries every error found."""

    def __init__(self, *diagnostics: Diagnostic) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in diagnostics))
