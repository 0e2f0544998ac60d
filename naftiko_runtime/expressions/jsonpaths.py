"""JSONPath expressions compiled once at load (jsonpath-ng, extended syntax)."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Any

_ROOT = ("$", "$.", "")
_PARSING = threading.Lock()


@functools.cache
def _parser() -> Any:
    """One jsonpath-ng parser for every path: `jsonpath_ng.ext.parse` builds a new one per call (two thirds of its time)."""
    from jsonpath_ng.ext.parser import ExtendedJsonPathParser

    return ExtendedJsonPathParser()


def _parse(text: str) -> Any:
    with _PARSING:  # the parser keeps its stacks on itself while it parses
        return _parser().parse(text)


@dataclass(frozen=True)
class JsonPath:
    source: str
    _expr: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def compile(cls, source: str) -> JsonPath:
        """Raise ValueError with the parser's words when `source` is not a JSONPath."""
        text = source.strip()
        if text in _ROOT:
            return cls(source, None)
        if not text.startswith("$"):
            raise ValueError(f"a JSONPath starts with '$', got '{source}'")
        try:
            return cls(source, _parse(text))
        except Exception as exc:  # jsonpath-ng raises bare Exceptions on syntax errors
            raise ValueError(f"invalid JSONPath '{source}': {exc}") from None

    @property
    def multi(self) -> bool:
        """Whether the path can select several nodes (wildcards, filters, slices, recursion)."""
        return any(tok in self.source for tok in ("*", "..", "?(", ":", ","))

    @property
    def is_root(self) -> bool:
        return self._expr is None

    def find(self, data: Any) -> list[Any]:
        if self._expr is None:
            return [data]
        return [m.value for m in self._expr.find(data)]

    def first(self, data: Any, default: Any = None) -> Any:
        """The value at the path; for a path that selects several nodes, the list of them."""
        if self._expr is None:
            return data
        matches = self.find(data)
        if self.multi:
            return matches
        return matches[0] if matches else default
