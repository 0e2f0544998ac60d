"""HTML and Markdown answers as the reference engine converts them.

Both become documents, so a mapping such as `$.tables[0]` reads the same in either:

- HTML: `{"tables": [[row, ...], ...]}`. The consumed operation's `outputSchema`, when
  set, is a CSS selector scoping which tables are read (a selected element that is not a
  table contributes the tables inside it). A table's headers are the `th` of its first
  row (in `thead` first); rows holding a `th` are header rows and skipped. Cell text is
  whitespace-collapsed as a browser shows it.
- Markdown: `{"frontMatter": {...}, "tables": [...], "sections": [{heading, level,
  content}, ...]}`. Front matter is a leading `---` YAML block; tables are GFM tables at
  the top level; a section is a heading and the text of the top-level blocks after it
  (tables excepted). `outputSchema`, when set, keeps only sections whose heading starts
  with it.

Each table is an array of row objects keyed by the header text, every value a string
(a short row is padded with ""). A table whose headers are all blank is left out.
"""

from __future__ import annotations

import datetime
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

Table = list[dict[str, str]]

_MARKDOWN = MarkdownIt("commonmark").enable("table")


def _rows_to_table(headers: list[str], rows: list[list[str]]) -> Table:
    return [{h: (row[i] if i < len(row) else "") for i, h in enumerate(headers)} for row in rows]


def _headers(raw: list[str]) -> list[str]:
    headers = [h.strip() for h in raw]
    return headers if any(headers) else []


def _text(node: LexborNode) -> str:
    return " ".join((node.text(deep=True) or "").split())


def _html_tables(tree: LexborHTMLParser, selector: str | None) -> list[LexborNode]:
    if not selector or not selector.strip():
        return list(tree.css("table"))
    tables: list[LexborNode] = []
    seen: set[int] = set()
    for element in tree.css(selector):
        for table in [element] if element.tag == "table" else element.css("table"):
            if table.mem_id not in seen:
                seen.add(table.mem_id)
                tables.append(table)
    return tables


def html_document(text: str, selector: str | None = None) -> dict[str, Any]:
    """`{"tables": [...]}` from an HTML page; raises ValueError for a selector that is not CSS."""
    tree = LexborHTMLParser(text)
    tables: list[Table] = []
    try:
        selected = _html_tables(tree, selector)
    except SelectolaxError as exc:
        raise ValueError(f"outputSchema '{selector}' is not a CSS selector: {exc}") from None
    for table in selected:
        header_cells = table.css("thead tr:first-child th") or table.css("tr:first-child th")
        headers = _headers([_text(th) for th in header_cells])
        if not headers:
            continue
        rows = []
        for tr in table.css("tbody tr") or table.css("tr"):
            if tr.css_first("th") is not None:
                continue
            cells = tr.css("td")
            if cells:
                rows.append([_text(td) for td in cells])
        tables.append(_rows_to_table(headers, rows))
    return {"tables": tables}


def _plain(value: Any) -> Any:
    """YAML dates and times as the ISO text they were written as (JSON has no date)."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def yaml_data(text: str) -> Any:
    """A YAML document as JSON data; raises ValueError when it is not YAML."""
    try:
        # pure=True: libyaml's composer (ruamel.yaml.clib) recurses in C and crashes on deep nesting
        return _plain(YAML(typ="safe", pure=True).load(text))
    except (YAMLError, RecursionError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None


def _split_front_matter(markdown: str) -> tuple[dict[str, Any], str]:
    if not markdown.startswith("---\n"):
        return {}, markdown
    end = markdown.find("\n---\n", 4)
    if end < 0:
        return {}, markdown
    block, body = markdown[4:end].strip(), markdown[end + 5 :]
    if not block:
        return {}, body
    try:
        parsed = yaml_data(block)
    except ValueError as exc:
        raise ValueError(f"its front matter is not YAML: {exc}") from None
    return (parsed if isinstance(parsed, dict) else {}), body


def _inline_text(token: Token) -> str:
    """What the reference's text visitor collects: text and code, soft breaks as spaces."""
    out: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "image":
            out.append(_inline_text(child))
    return "".join(out)


def _blocks(tokens: list[Token]) -> list[list[Token]]:
    """The top-level blocks, each as the tokens from its opening to its closing one."""
    blocks: list[list[Token]] = []
    depth = 0
    for token in tokens:
        if depth == 0:
            blocks.append([])
        blocks[-1].append(token)
        depth += token.nesting
    return blocks


def _block_text(block: list[Token]) -> str:
    return "".join(_inline_text(t) for t in block if t.type == "inline")


def _markdown_table(block: list[Token]) -> Table | None:
    headers: list[str] = []
    rows: list[list[str]] = []
    section = ""
    row: list[str] | None = None
    for i, token in enumerate(block):
        if token.type in ("thead_open", "tbody_open"):
            section = token.type[:5]
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            if section == "thead" and not headers:
                headers = row
            elif section == "tbody":
                rows.append(row)
            row = None
        elif token.type in ("th_open", "td_open") and row is not None:
            following = block[i + 1]
            row.append(_inline_text(following).strip() if following.type == "inline" else "")
    headers = _headers(headers)
    return _rows_to_table(headers, rows) if headers else None


def markdown_document(text: str, section_filter: str | None = None) -> dict[str, Any]:
    """`{"frontMatter", "tables", "sections"}` from a Markdown document."""
    front, body = _split_front_matter(text.replace("\r\n", "\n"))
    tables: list[Table] = []
    sections: list[dict[str, Any]] = []
    heading: tuple[str, int] | None = None
    content: list[str] = []

    def close_section() -> None:
        if heading is not None and (not section_filter or not section_filter.strip() or heading[0].startswith(section_filter)):
            sections.append({"heading": heading[0], "level": heading[1], "content": "\n".join(content).strip()})

    for block in _blocks(_MARKDOWN.parse(body)):
        kind = block[0].type
        if kind == "table_open":
            table = _markdown_table(block)
            if table is not None:
                tables.append(table)
        elif kind == "heading_open":
            close_section()
            heading, content = (_block_text(block).strip(), int(block[0].tag[1:])), []
        elif heading is not None:
            piece = _block_text(block).strip()
            if piece:
                content.append(piece)
    close_section()
    return {"frontMatter": front, "tables": tables, "sections": sections}
