"""Upstream bodies to data, by the consumed operation's `outputRawFormat`.

XML follows the reference engine (Jackson's XmlMapper): the root element is dropped,
attributes and children become fields, repeated children arrays, leaves strings, and
the text of an element that also has attributes or children sits under "". The result
remembers its root element's name, so that a mapping written `$.<root>.x` reads the
same as `$.x` (see output). Delimited text becomes an array of row objects with string
values; HTML and Markdown become the reference's documents (see documents).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from .. import jsonfast

if TYPE_CHECKING:
    from xml.etree import ElementTree


class FormatError(ValueError):
    """The body is not in the declared format."""


class XmlDocument(dict[str, Any]):
    """A converted XML answer: the root element's content, and the root element's name."""

    def __init__(self, content: dict[str, Any], root: str) -> None:
        super().__init__(content)
        self.root = root


def _local(name: str) -> str:
    """A tag or attribute name without its `{namespace}`."""
    return name.split("}", 1)[-1]


def _xml_node(elem: ElementTree.Element) -> Any:
    children = list(elem)
    if not children and not elem.attrib:
        return (elem.text or "").strip()
    node: dict[str, Any] = {_local(k): v for k, v in elem.attrib.items()}
    repeated = _repeated(elem)
    for child in children:
        tag = _local(child.tag)
        if tag in repeated:
            node.setdefault(tag, []).append(_xml_node(child))
        else:
            node[tag] = _xml_node(child)
    text = "".join([elem.text or "", *(c.tail or "" for c in children)]).strip()
    if text:
        node[""] = text
    return node


def _repeated(elem: ElementTree.Element) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for child in elem:
        tag = _local(child.tag)
        (repeated if tag in seen else seen).add(tag)
    return repeated


def parse_xml(text: str) -> Any:
    # csv and ElementTree (with pyexpat) load on first use, as `documents` does: most files read only JSON
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise FormatError(f"not XML: {exc}") from None
    content = _xml_node(root)
    if not isinstance(content, dict):
        return content  # a root holding only text is that text, as in the reference
    return XmlDocument(content, _local(root.tag))


def parse_delimited(text: str, delimiter: str) -> list[dict[str, str]]:
    import csv

    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [{k: v for k, v in row.items() if k is not None} for row in reader]


def parse_yaml(text: str) -> Any:
    # `documents` loads on first use: its readers (markdown-it, selectolax) cost ~3.5 MB of RSS
    from .documents import yaml_data

    try:
        return yaml_data(text)
    except ValueError as exc:
        raise FormatError(f"not YAML: {exc}") from None


def parse_body(body: bytes, fmt: str, content_type: str | None = None, schema: str | None = None) -> Any:
    """Decode `body`; an empty body is None. Raises FormatError when it is not `fmt`.

    `schema` is the operation's `outputSchema`: for html a CSS selector of the tables to
    read, for markdown a heading prefix of the sections to keep."""
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
        return parse_yaml(text)
    if fmt in ("csv", "tsv", "psv"):
        return parse_delimited(text, {"csv": ",", "tsv": "\t", "psv": "|"}[fmt])
    try:
        if fmt == "html":
            from .documents import html_document

            return html_document(text, schema)
        if fmt == "markdown":
            from .documents import markdown_document

            return markdown_document(text, schema)
    except ValueError as exc:
        raise FormatError(f"not {fmt}: {exc}") from None
    raise FormatError(f"outputRawFormat '{fmt}' is not supported by this runtime")
