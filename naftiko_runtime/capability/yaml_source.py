"""Read YAML into plain Python data while remembering where every node came from.

ruamel's round-trip loader keeps positions but is an order of magnitude slower than
libyaml's event parser (``ruamel.yaml.clib``, a declared dependency), so we build the
data ourselves from its events: one iterative pass that also bounds nesting depth (the
C *composer* recurses and crashes on hostile input; the event parser does not, and we
never use the composer), bounds alias expansion (alias bombs), and rejects duplicate
keys with both locations. Without the C extension the pure-Python parser is used, about
eight times slower (``PARSER`` says which; a test insists on libyaml).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from .diagnostics import Diagnostic, SpecError

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000

JsonPath = tuple[str | int, ...]

try:
    from ruamel.yaml.cyaml import CParser as _CParser
except ImportError:  # the C extension is missing: stay correct, just slower
    _CParser = None

#: Which event parser reads capability files: "libyaml" (ruamel.yaml.clib) or "pure-python".
PARSER = "libyaml" if _CParser is not None else "pure-python"

# YAML 1.2 core schema for plain scalars. ruamel's resolver does the same job, but
# costs more than the C parser itself when driven event by event.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^([-+]?)\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
# The first characters of plain scalars that may be null, a boolean or a number (most are strings: skip the regexes).
_MAYBE_NULL = frozenset("~nN") | {""}
_MAYBE_BOOL = frozenset("tTfF")
_MAYBE_NUMBER = frozenset("0123456789+-.")
_CORE_TAGS: dict[str, Callable[[str], Any]] = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": lambda v: int(v, 0) if v[:2] in ("0o", "0x") else int(v),
    "tag:yaml.org,2002:float": float,
    "tag:yaml.org,2002:bool": lambda v: _BOOL.get(v, bool(v)),
    "tag:yaml.org,2002:null": lambda v: None,
}


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of a document starts, 1-based."""

    file: str
    values: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: JsonPath, *, key: bool = False) -> tuple[int, int]:
        """The closest known position for `path`: its own, else its nearest ancestor's."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if not key and probe in self.keys:
                return self.keys[probe]
            probe = probe[:-1]
        return self.values.get((), (1, 1))


@dataclass
class YamlDocument:
    data: Any
    source: SourceMap


def _mark(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _scalar(event: ScalarEvent) -> Any:
    value: str = event.value
    tag = event.ctag  # ruamel's `tag` is a property that makes a string of this; most scalars have none
    if tag is not None and (tag := str(tag)) != "!":
        convert = _CORE_TAGS.get(tag)
        try:
            return convert(value) if convert else value
        except ValueError:
            return value
    if event.style or not event.implicit[0]:
        return value
    first = value[:1]
    if first not in _MAYBE_NUMBER:  # by its first character, a plain scalar can be only one kind besides a string
        if first in _MAYBE_NULL:
            return None if _NULL.match(value) else value
        return _BOOL.get(value, value) if first in _MAYBE_BOOL else value
    if _INT.match(value):
        return int(value)
    if _INT_OCT.match(value) or _INT_HEX.match(value):
        return int(value, 0)
    if _FLOAT.match(value):
        return float(value)
    inf = _INF.match(value)
    if inf:
        return float(f"{inf.group(1)}inf")
    if _NAN.match(value):
        return float("nan")
    return value


class _Builder:
    """Turns parser events into dicts, lists and scalars with positions."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.source = SourceMap(file)
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.nodes = 0

    def fail(self, message: str, pos: tuple[int, int], path: JsonPath = ()) -> SpecError:
        return SpecError(Diagnostic.error(message, self.file, pos[0], pos[1], path, "yaml"))

    def count(self, n: int, pos: tuple[int, int]) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise self.fail(
                f"document expands to more than {MAX_NODES} nodes (an alias bomb?)", pos
            )

    def build(self, events: Iterable[Any]) -> Any:
        # One pass over every event of the file, so the helpers are inlined and the tables are locals.
        # Each frame: [container, path, pending key, the pending key's path, anchor, is a mapping, size]
        stack: list[list[Any]] = []
        root: Any = None
        done = False
        values, keys = self.source.values, self.source.keys
        anchors = self.anchors
        for event in events:
            kind = event.__class__
            if kind is ScalarEvent or kind is MappingStartEvent or kind is SequenceStartEvent or kind is AliasEvent:
                mark = event.start_mark
                pos = (mark.line + 1, mark.column + 1)
                if done:
                    raise self.fail("expected a single YAML document, found more", pos)
                if stack:
                    parent = stack[-1]
                    if parent[5]:
                        if parent[2] is _NO_KEY:
                            key = _scalar(event) if kind is ScalarEvent else None
                            if key.__class__ is str and key not in parent[0] and key != "<<":  # the usual key
                                key_path = (*parent[1], key)
                                keys[key_path] = pos
                                parent[2], parent[3] = key, key_path
                                continue
                            parent[2], parent[3] = self.key_of(event, parent, pos)
                            continue
                        path = parent[3]
                    else:
                        path = (*parent[1], len(parent[0]))
                else:
                    parent, path = None, ()
                if kind is ScalarEvent:
                    value, size = _scalar(event), 1
                    self.nodes += 1
                    if self.nodes > MAX_NODES:
                        self.count(0, pos)
                elif kind is AliasEvent:
                    if event.anchor not in anchors:
                        raise self.fail(f"unknown alias *{event.anchor}", pos, path)
                    value, size = anchors[event.anchor]
                    self.count(size, pos)
                else:
                    if len(stack) >= MAX_DEPTH:
                        raise self.fail(f"nesting deeper than {MAX_DEPTH} levels", pos, path)
                    values[path] = pos
                    self.count(1, pos)
                    mapping = kind is MappingStartEvent
                    stack.append([{} if mapping else [], path, _NO_KEY, None, event.anchor, mapping, 1])
                    continue
                values[path] = pos
                if kind is not AliasEvent and event.anchor:
                    anchors[event.anchor] = (value, size)
                if parent is None:
                    root, done = value, True
                    continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                frame = stack.pop()
                value, size = frame[0], frame[6]
                if frame[4]:
                    anchors[frame[4]] = (value, size)
                if not stack:
                    root, done = value, True
                    continue
                parent = stack[-1]
            else:
                if kind is DocumentStartEvent and done:
                    raise self.fail("expected a single YAML document, found more", _mark(event.start_mark))
                continue
            if parent[5]:
                parent[0][parent[2]] = value
                parent[2] = _NO_KEY
            else:
                parent[0].append(value)
            parent[6] += size
        return root

    def key_of(self, event: Any, parent: list[Any], pos: tuple[int, int]) -> tuple[str, JsonPath]:
        """The key `event` holds, and its path (which is also its value's)."""
        if event.__class__ is not ScalarEvent:
            raise self.fail("mapping keys must be plain scalars", pos, parent[1])
        key = _scalar(event)
        if key.__class__ is not str:
            if key is None or isinstance(key, (list, dict)):
                raise self.fail("mapping keys must be plain scalars", pos, parent[1])
            key = str(key)
        path = (*parent[1], key)
        if key in parent[0]:
            first = self.source.keys.get(path, pos)
            raise self.fail(
                f"duplicate key '{key}' (first defined at line {first[0]}, column {first[1]})",
                pos,
                path,
            )
        if key == "<<":
            raise self.fail("YAML merge keys ('<<') are not supported in capability files", pos, parent[1])
        self.source.keys[path] = pos
        return key, path


_NO_KEY = object()


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document; every failure is a SpecError with a position."""
    builder = _Builder(file)
    try:
        with _events(text) as events:
            data = builder.build(events)
    except SpecError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = _mark(mark) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if _char_at(text, pos) == "\t" or "tab" in str(exc).lower():
            problem = "tab characters cannot indent YAML; use spaces"
        raise builder.fail(f"not valid YAML: {problem}", pos) from None
    except (YAMLError, ValueError) as exc:
        raise builder.fail(f"not valid YAML: {_short(exc)}", (1, 1)) from None
    except RecursionError:
        raise builder.fail("nesting too deep to read", (1, 1)) from None
    return YamlDocument(data, builder.source)


@contextlib.contextmanager
def _events(text: str) -> Iterator[Iterator[Any]]:
    """Parser events of `text`, from libyaml when available (events only: no recursion in C)."""
    if _CParser is None:
        from ruamel.yaml import YAML

        yield iter(YAML(typ="safe", pure=True).parse(text))
        return
    parser = _CParser(text)
    try:
        yield iter(parser.get_event, None)  # None after the stream's end: no check_event, no generator step per event
    finally:
        parser.dispose()


def read_text(path: Path) -> str:
    """Read a capability file as UTF-8 text, refusing what cannot be one."""
    name = str(path)
    if not path.exists():
        raise SpecError(Diagnostic.error("no such file", name, 0, 0, (), "io"))
    if path.is_dir():
        raise SpecError(Diagnostic.error("is a directory, not a capability file", name, 0, 0, (), "io"))
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SpecError(
                Diagnostic.error(
                    f"file is {size} bytes; capability files are limited to {MAX_BYTES} bytes",
                    name, 0, 0, (), "io",
                )
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(Diagnostic.error(f"cannot read file: {exc.strerror}", name, 0, 0, (), "io")) from None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise SpecError(Diagnostic.error("binary data (NUL byte), not YAML text", name, line, 1, (), "io"))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(Diagnostic.error("not UTF-8 text", name, line, col, (), "io")) from None


def _char_at(text: str, pos: tuple[int, int]) -> str:
    lines = text.splitlines()
    if 0 < pos[0] <= len(lines) and 0 < pos[1] <= len(lines[pos[0] - 1]):
        return lines[pos[0] - 1][pos[1] - 1]
    return ""


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
