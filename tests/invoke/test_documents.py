"""HTML, Markdown and XML answers converted as the reference engine's Converter does (its ConverterTest cases)."""

from __future__ import annotations

import pytest

from naftiko_runtime.capability.model import Output
from naftiko_runtime.expressions.jsonpaths import JsonPath
from naftiko_runtime.invoke.formats import FormatError, XmlDocument, parse_body
from naftiko_runtime.invoke.output import map_outputs

HTML_TABLE = """<table><thead><tr><th>Name</th><th>Price</th><th>Stock</th></tr></thead>
<tbody><tr><td>Widget</td><td>$42</td><td>150</td></tr><tr><td>Gadget</td><td>$99</td><td>30</td></tr></tbody></table>"""
MARKDOWN_TABLE = "| Name | Price | Stock |\n|------|-------|-------|\n| Widget | $42 | 150 |\n| Gadget | $99 | 30 |\n"


def test_html_and_markdown_give_the_same_tables() -> None:
    html = parse_body(HTML_TABLE.encode(), "html")
    markdown = parse_body(MARKDOWN_TABLE.encode(), "markdown")
    assert html["tables"] == markdown["tables"]
    assert html["tables"][0][0] == {"Name": "Widget", "Price": "$42", "Stock": "150"}


def test_html_output_schema_is_a_css_selector_of_the_tables_read() -> None:
    page = """<div><table class="ignored"><tr><th>Name</th><th>Stock</th></tr><tr><td>Ignored</td><td>0</td></tr></table>
    <section class="inventory"><table class="products"><tr><th>Name</th><th>Stock</th></tr><tr><td>Kept</td><td>42</td></tr></table></section></div>"""
    assert parse_body(page.encode(), "html", schema="table.products") == {"tables": [[{"Name": "Kept", "Stock": "42"}]]}
    assert parse_body(page.encode(), "html", schema="section.inventory") == {"tables": [[{"Name": "Kept", "Stock": "42"}]]}
    assert len(parse_body(page.encode(), "html")["tables"]) == 2


def test_html_rows_holding_th_are_skipped_cells_collapse_whitespace_short_rows_pad() -> None:
    page = """<table><tr><th>Name</th><th>Price</th></tr><tr><th>Widget</th><td>$42</td></tr>
    <tr><td>  Gad\n   get </td></tr><tr><td>x</td><td>y</td><td>extra</td></tr></table><table><tr><td>no headers</td></tr></table>"""
    assert parse_body(page.encode(), "html") == {"tables": [[{"Name": "Gad get", "Price": ""}, {"Name": "x", "Price": "y"}]]}


def test_html_bad_selector_is_a_format_error() -> None:
    with pytest.raises(FormatError):
        parse_body(HTML_TABLE.encode(), "html", schema="table[[")


def test_markdown_front_matter_tables_and_sections() -> None:
    text = ("---\ntitle: Release Notes\nversion: 2.1.0\ncreated: 2026-04-02\n---\n\n## Overview\n"
            "This **release** introduces [new features](https://example.com).\n\n| Feature | Status |\n|---|---|\n| Search | GA |\n\n"
            "### Notes\nOne `code` line\nand a soft break.\n\n```\nfenced code is not text\n```\n")
    doc = parse_body(text.encode(), "markdown")
    assert doc["frontMatter"] == {"title": "Release Notes", "version": "2.1.0", "created": "2026-04-02"}
    assert doc["tables"] == [[{"Feature": "Search", "Status": "GA"}]]
    assert doc["sections"] == [
        {"heading": "Overview", "level": 2, "content": "This release introduces new features."},
        {"heading": "Notes", "level": 3, "content": "One code line and a soft break."},
    ]


def test_markdown_output_schema_keeps_sections_by_heading_prefix() -> None:
    text = "## Overview\nGeneral.\n\n## API Reference\nDetails.\n\n## API Usage\nHow.\n"
    doc = parse_body(text.encode(), "markdown", schema="API")
    assert [s["heading"] for s in doc["sections"]] == ["API Reference", "API Usage"]


def test_xml_drops_the_root_keeps_attributes_and_mixed_text() -> None:
    doc = parse_body(b'<root><user id="1">Alice<role>admin</role></user><user id="2"/></root>', "xml")
    assert isinstance(doc, XmlDocument) and doc.root == "root"
    assert doc == {"user": [{"id": "1", "role": "admin", "": "Alice"}, {"id": "2"}]}


@pytest.mark.parametrize("mapping", ["$.user", "$.root.user"])
def test_xml_mapping_may_name_the_root_element(mapping: str) -> None:
    """The reference maps `$.user` (its converter drops the root); its own fixture writes `$.root.user`: both read the users."""
    doc = parse_body(b"<root><user><id>1</id></user><user><id>2</id></user></root>", "xml")
    out = Output(name=None, type="array", mapping=JsonPath.compile(mapping))
    assert map_outputs([out], doc, {}) == [{"id": "1"}, {"id": "2"}]


def test_xml_root_named_like_a_child_reads_the_child() -> None:
    doc = parse_body(b"<item><item>inner</item></item>", "xml")
    out = Output(name=None, type="string", mapping=JsonPath.compile("$.item"))
    assert map_outputs([out], doc, {}) == "inner"
