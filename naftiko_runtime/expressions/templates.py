"""Every `{{name}}` template of a capability file, through one jinja2 engine.

Capability files use a small slice of Mustache: `{{a}}`, `{{a.b}}`, `{{step-name.field}}`, in `with`
values, parameter values, bodies and MCP prompts. A template is split into its literal text and its
placeholders; each placeholder becomes a positional slot, so `{{orgId}}/{{appId}}` and `{{a}}/{{b}}`
have one *shape*. A shape is built as a jinja2 node tree (literal text is template data, never read
as jinja syntax, so no file text can be jinja code), compiled once and shared by every template of
that shape; compiled templates are also shared by source.

Each slot goes through the filter of its output format, never hand-made concatenation:
`text` (Mustache: no HTML escaping, lists and objects as JSON, null as ""), `json` (a JSON value at a
bare position, JSON string content inside quotes), `form` (form-urlencoded), `xml` (XML-escaped),
`path` (one percent-encoded path segment).

What a missing value does is explicit, one jinja2 `Undefined` class per policy:
  empty   Mustache's and the reference engine's meaning: "" in text, `null` at a bare JSON position;
  keep    the placeholder stays as written (MCP prompts: the reference engine leaves unknown arguments);
  strict  rendering raises `MissingValue` naming the placeholder.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, quote_plus

from jinja2 import Environment, StrictUndefined, Undefined, UndefinedError, nodes

TAG = re.compile(r"\{\{\s*([^{}\s][^{}]*?)\s*\}\}")
#: A prompt placeholder as alpha2 (the reference engine's PromptHandler) reads it: no spaces, no dots.
PROMPT_TAG = re.compile(r"\{\{([A-Za-z0-9_]+)\}\}")
Context = Mapping[str, Any]
Mode = Literal["text", "json", "form", "xml", "path"]
Missing = Literal["empty", "keep", "strict"]

_MISSING = object()


class MissingValue(LookupError):
    """A `strict` template met a placeholder with no value."""


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
    head = name.partition(".")[0]
    folded = head.casefold()
    for key in context:
        if isinstance(key, str) and key.casefold() == folded:
            return lookup({head: context[key]}, name)
    return _MISSING


def is_missing(value: Any) -> bool:
    return value is _MISSING


def as_text(value: Any) -> str:
    """Mustache rendering of one value: JSON for structures, '' for null."""
    if isinstance(value, Undefined):
        return str(value)  # the policy's answer: "", the placeholder itself, or an error
    if value is None or value is _MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


# -- one filter per output format ------------------------------------------------------------------
def _json_value(value: Any) -> str:
    if isinstance(value, Undefined):
        text = str(value)
        return json.dumps(text, ensure_ascii=False) if text else "null"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_string(value: Any) -> str:
    return json.dumps(as_text(value), ensure_ascii=False)[1:-1]


def _form(value: Any) -> str:
    return quote_plus(as_text(value))


def _xml(value: Any) -> str:
    # imported here: xml.sax.saxutils imports urllib.request, http.client and email (~35 ms of every start-up)
    from xml.sax.saxutils import escape as xml_escape

    return xml_escape(as_text(value), {'"': "&quot;", "'": "&apos;"})


def _segment(value: Any) -> str:
    """Exactly one path segment: no `/`, `?`, `#`, CR/LF, and never a dot-segment."""
    text = quote(as_text(value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text


class _Kept(Undefined):
    """A missing value that renders as its own placeholder (its `name` is the placeholder's text)."""

    __slots__ = ()

    def __str__(self) -> str:
        return str(self._undefined_name)


_UNDEFINED: dict[str, type[Undefined]] = {"empty": Undefined, "keep": _Kept, "strict": StrictUndefined}
_SLOT_FILTER = {"text": "text", "form": "form", "xml": "xml", "path": "segment"}

# No file text ever becomes jinja source (shapes are node trees built here), so no sandbox is needed.
# StrictUndefined: a name the shape reads but the render does not give is our bug, never silence.
_ENV = Environment(autoescape=False, undefined=StrictUndefined, cache_size=0)
_ENV.filters.update(text=as_text, json=_json_value, json_string=_json_string, form=_form, xml=_xml, segment=_segment)


@functools.lru_cache(maxsize=1024)
def _shape(literals: tuple[str, ...], filters: tuple[str, ...]) -> Any:
    """The compiled jinja2 template of one shape: literal text around filtered positional slots."""
    body: list[nodes.Node] = []
    for i, name in enumerate(filters):
        if literals[i]:
            body.append(nodes.TemplateData(literals[i]))
        slot = nodes.Getitem(nodes.Name("v", "load"), nodes.Const(i), "load")
        body.append(nodes.Filter(slot, name, [], [], None, None))
    if literals[-1]:
        body.append(nodes.TemplateData(literals[-1]))
    return _ENV.from_string(nodes.Template([nodes.Output(body)]))


def shape_cache_info() -> Any:
    """How many shapes were compiled (misses) and how many templates reused one (hits)."""
    return _shape.cache_info()


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
    """A compiled template. `names` are the dotted names it reads, in order; `tags` the placeholders as written."""

    source: str
    mode: Mode = "text"
    names: tuple[str, ...] = ()
    missing: Missing = "empty"
    tags: tuple[str, ...] = field(default=(), compare=False, repr=False)
    #: The name when the template is exactly one tag, such as `"{{imo}}"` (its value keeps its type).
    single_name: str | None = field(default=None, compare=False, repr=False)
    _shape: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def compile(cls, source: str, mode: Mode = "text", missing: Missing = "empty") -> Template:
        return _compile(source, mode, missing)

    def render(self, context: Context) -> str:
        if self._shape is None:
            return self.source
        undefined = _UNDEFINED[self.missing]
        values = []
        for name, tag in zip(self.names, self.tags):
            value = lookup_ci(context, name)
            if value is _MISSING:
                value = undefined(name=tag if self.missing == "keep" else name)
            values.append(value)
        try:
            text: str = self._shape.render(v=values)
            return text
        except UndefinedError as exc:
            raise MissingValue(f"no value for {exc}".replace(" is undefined", "")) from None

    def render_value(self, context: Context) -> Any:
        """Like `render`, but a lone tag keeps its value's type (arrays stay arrays), and a JSON template
        gives the JSON value it renders to."""
        if self.mode == "json" and self._shape is not None:
            return json.loads(self.render(context))
        if self.single_name is not None:
            value = lookup_ci(context, self.single_name)
            if value is not _MISSING:
                return value
            return None if self.missing == "empty" else self.render(context)
        return self.render(context)


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: Mode, missing: Missing) -> Template:
    """One Template per distinct (source, mode, policy): files repeat the same `{{x}}` many times."""
    if mode not in ("text", "json", "form", "xml", "path") or missing not in _UNDEFINED:
        raise ValueError(f"unknown template mode '{mode}' or missing-value policy '{missing}'")
    matches = list(TAG.finditer(source))
    if not matches:
        return Template(source, mode, (), missing)
    if mode == "json":
        filters = tuple("json_string" if inside else "json" for inside in _tag_contexts(source))
    else:
        filters = (_SLOT_FILTER[mode],) * len(matches)
    literals, pos = [], 0
    for match in matches:
        literals.append(source[pos : match.start()])
        pos = match.end()
    literals.append(source[pos:])
    lone = matches[0].group(1) if len(matches) == 1 and TAG.fullmatch(source.strip()) else None
    return Template(
        source, mode, tuple(m.group(1) for m in matches), missing,
        tags=tuple(m.group(0) for m in matches), single_name=lone, _shape=_shape(tuple(literals), filters),
    )


def has_tags(text: str) -> bool:
    return bool(TAG.search(text))


def compile_prompt(text: str) -> Template:
    """An MCP prompt's text: the same engine, and an argument not given leaves its placeholder, as in alpha2."""
    return Template.compile(text, "text", "keep")


def prompt_deviations(text: str) -> list[str]:
    """The placeholders of a prompt that alpha2 would leave as text (`{{ x }}`, `{{a.b}}`, `{{a-b}}`)."""
    return [m.group(0) for m in TAG.finditer(text) if not PROMPT_TAG.fullmatch(m.group(0))]
