"""Mustache-style `{{name}}` templates, compiled once at load into sandboxed jinja2.

Capability files use a small slice of Mustache: `{{a}}`, `{{a.b}}`, `{{step-name.field}}`.
We translate every tag into a jinja2 lookup call (so hyphenated names and literal text
can never be read as jinja syntax), and render with Mustache's meaning: no HTML
escaping, lists and objects as JSON, missing values as "" (the reference engine's
behaviour) unless the caller asks which names are missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote_plus
from xml.sax.saxutils import escape as xml_escape

from jinja2.sandbox import ImmutableSandboxedEnvironment

TAG = re.compile(r"\{\{\s*([^{}\s][^{}]*?)\s*\}\}")
Context = Mapping[str, Any]
Mode = Literal["text", "json", "form", "xml"]

_MISSING = object()


def lookup(context: Context, name: str) -> Any:
    """Resolve a dotted name: the whole name as a key first, then nested keys."""
    if name in context:
        return context[name]
    node: Any = context
    for part in name.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def lookup_ci(context: Context, name: str) -> Any:
    """`lookup`, then a case-insensitive match on the first segment (`orgid` fills `orgId`)."""
    value = lookup(context, name)
    if value is not _MISSING:
        return value
    head, _, rest = name.partition(".")
    folded = head.casefold()
    for key in context:
        if isinstance(key, str) and key.casefold() == folded:
            return lookup({head: context[key]}, name)
    return _MISSING


def is_missing(value: Any) -> bool:
    return value is _MISSING


def as_text(value: Any) -> str:
    """Mustache rendering of one value: JSON for structures, '' for null."""
    if value is None or value is _MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _json_value(value: Any) -> str:
    if value is _MISSING:
        return "null"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_inner(value: Any) -> str:
    return json.dumps(as_text(value), ensure_ascii=False)[1:-1]


_ENV = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
_ENV.globals.update(L=lookup_ci)
def _form_value(value: Any) -> str:
    return quote_plus(as_text(value))


def _xml_value(value: Any) -> str:
    return xml_escape(as_text(value), {'"': "&quot;", "'": "&apos;"})


_ENV.filters.update(text=as_text, jv=_json_value, ji=_json_inner, fe=_form_value, xe=_xml_value)


def _tag_contexts(source: str) -> list[bool]:
    """For a JSON-shaped template, whether each tag sits inside a JSON string literal."""
    inside, escaped, result = False, False, []
    pos = 0
    for match in TAG.finditer(source):
        for ch in source[pos : match.start()]:
            if escaped:
                escaped = False
            elif ch == "\\" and inside:
                escaped = True
            elif ch == '"':
                inside = not inside
        result.append(inside)
        pos = match.end()
    return result


@dataclass(frozen=True)
class Template:
    """A compiled template. `names` are the dotted names it reads, in order."""

    source: str
    mode: Mode = "text"
    names: tuple[str, ...] = ()
    _compiled: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def compile(cls, source: str, mode: Mode = "text") -> Template:
        matches = list(TAG.finditer(source))
        names = tuple(m.group(1) for m in matches)
        if not matches:
            return cls(source, mode, (), None)
        literals: list[str] = []
        parts: list[str] = []
        in_string = _tag_contexts(source) if mode == "json" else [False] * len(matches)
        pos = 0
        for i, match in enumerate(matches):
            literals.append(source[pos : match.start()])
            parts.append("{{ T[%d] }}" % (len(literals) - 1))
            if mode == "json":
                flt = "ji" if in_string[i] else "jv"
            else:
                flt = {"form": "fe", "xml": "xe"}.get(mode, "text")
            parts.append("{{ L(C, N[%d]) | %s }}" % (i, flt))
            pos = match.end()
        literals.append(source[pos:])
        parts.append("{{ T[%d] }}" % (len(literals) - 1))
        compiled = _ENV.from_string("".join(parts), globals={"T": tuple(literals), "N": names})
        return cls(source, mode, names, compiled)

    @property
    def single_name(self) -> str | None:
        """The name when the template is exactly one tag, such as `"{{imo}}"`."""
        if len(self.names) == 1:
            match = TAG.fullmatch(self.source.strip())
            if match:
                return match.group(1)
        return None

    def render(self, context: Context) -> str:
        if self._compiled is None:
            return self.source
        return self._compiled.render(C=context)

    def render_value(self, context: Context) -> Any:
        """Like `render`, but a lone tag keeps its value's type (arrays stay arrays)."""
        name = self.single_name
        if name is not None:
            value = lookup_ci(context, name)
            return None if value is _MISSING else value
        return self.render(context)


def has_tags(text: str) -> bool:
    return bool(TAG.search(text))
