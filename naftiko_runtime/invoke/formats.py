"""Upstream bodies to data, by the consumed operation's `outputRawFormat`.

XML follows the reference engine: the root element is dropped, repeated children
become arrays, leaves are strings. Delimited text and html/markdown tables become
arrays of row objects with string values.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree

from ruamel.yaml import YAML

from .. import jsonfast


class FormatError(ValueError):
    """The body is not in the declared format."""


def _xml_node(elem: ElementTree.Element) -> Any:
    children = list(elem)
    if not children and not elem.attrib:
        return (elem.text or "").strip()
    node: dict[str, Any] = dict(elem.attrib)
    repeated = _repeated(elem)
    for child in children:
        tag = child.tag.split("}", 1)[-1]
        if tag in repeated:
            node.setdefault(tag, []).append(_xml_node(child))
        else:
            node[tag] = _xml_node(child)
    return node


def _repeated(elem: ElementTree.Element) -> set[str]:
    seen, repeated = set(), set()
    for child in elem:
        tag = child.tag.split("}", 1)[-1]
        (repeated if tag in seen else seen).add(tag)
    return repeated


def parse_xml(text: str) -> Any:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise FormatError(f"not XML: {exc}") from None
    return _xml_node(root)


def parse_delimited(text: str, delimiter: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [{k: v for k, v in row.items() if k is not None} for row in reader]


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _rows(table: list[list[str]]) -> list[dict[str, str]]:
    if not table:
        return []
    header, *rows = table
    return [dict(zip(header, row)) for row in rows]


def parse_html(text: str) -> list[dict[str, str]]:
    parser = _Tables()
    parser.feed(text)
    return _rows(parser.tables[0]) if parser.tables else []


def parse_markdown(text: str) -> list[dict[str, str]]:
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    cells = [row for row in cells if not all(set(c) <= set("-: ") for c in row)]
    return _rows(cells)


def parse_body(body: bytes, fmt: str, content_type: str | None = None) -> Any:
    """Decode `body`; an empty body is None. Raises FormatError when it is not `fmt`."""
    if not body.strip():
        return None
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError("body is not UTF-8 text") from None
    fmt = (fmt or "json").lower()
    if fmt == "raw":  # an outputRawFormat alpha2 does not define: the text, unconverted
        return text
    if fmt == "json":
        try:
            return jsonfast.loads(text)
        except ValueError as exc:
            raise FormatError(f"not JSON ({exc.args[0] if exc.args else exc})") from None
    if fmt == "xml":
        return parse_xml(text)
    if fmt == "yaml":
        try:
            return YAML(typ="safe", pure=False).load(text)
        except Exception as exc:
            raise FormatError(f"not YAML: {exc}") from None
    if fmt in ("csv", "tsv", "psv"):
        return parse_delimited(text, {"csv": ",", "tsv": "\t", "psv": "|"}[fmt])
    if fmt == "html":
        return parse_html(text)
    if fmt == "markdown":
        return parse_markdown(text)
    raise FormatError(f"outputRawFormat '{fmt}' is not supported by this runtime")
