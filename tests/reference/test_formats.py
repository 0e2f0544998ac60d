"""The reference engine's format fixtures (src/test/resources/formats): non-JSON upstream answers become JSON.

Each upstream answers the reference's own sample file (fixtures/schemas/); the exposed REST operation's
output mapping must find what the reference's JUnit test asserts in the converted document.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..support.recording_upstream import RecordingUpstream, reply
from .helpers import FIXTURES, get_json, load_ok, serve

USERS = [
    {"id": "1", "name": "Alice Smith", "email": "alice@example.com"},
    {"id": "2", "name": "Bob Johnson", "email": "bob@example.com"},
    {"id": "3", "name": "Carol White", "email": "carol@example.com"},
]


async def _rest_answer(upstream: RecordingUpstream, name: str, namespace: str, path: str, upstream_path: str,
                       sample: str, content_type: str) -> tuple[int, Any]:
    upstream.route("GET", upstream_path, reply(body=(FIXTURES / "schemas" / sample).read_bytes(), content_type=content_type))
    async with serve(f"formats/{name}", upstream.url) as served:
        answer = await get_json(served, "GET", served.rest_url(namespace) + path)
    assert upstream.hits("GET", upstream_path)
    return answer


async def test_csv_users(upstream: RecordingUpstream) -> None:
    """CsvIntegrationTest: three users; the first is 1 / Alice Smith / alice@example.com."""
    status, body = await _rest_answer(upstream, "csv-capability.yaml", "test-csv", "/csv/users", "/api/users", "sample-users.csv", "text/csv")
    assert status == 200 and body == USERS


async def test_yaml_users(upstream: RecordingUpstream) -> None:
    """YamlIntegrationTest: a `users` array of three, Alice, Bob and Carol."""
    status, body = await _rest_answer(upstream, "yaml-capability.yaml", "test-yaml", "/yaml/users", "/api/users", "sample-users.yaml", "application/yaml")
    assert status == 200 and body == USERS


async def test_xml_users(upstream: RecordingUpstream) -> None:
    """XmlIntegrationTest: a `user` array of three under the root, Alice first."""
    status, body = await _rest_answer(upstream, "xml-capability.yaml", "test-xml", "/xml/users", "/api/users", "sample-users.xml", "application/xml")
    assert status == 200 and body == USERS


async def test_html_products_table(upstream: RecordingUpstream) -> None:
    """HtmlIntegrationTest: `table.products` gives one table of two rows; Widget first, Gadget at $99."""
    status, body = await _rest_answer(upstream, "html-capability.yaml", "test-html", "/html/products", "/api/products", "sample-products.html", "text/html")
    assert status == 200
    assert [row["name"] for row in body] == ["Widget", "Gadget"]
    assert body[1]["price"] == "$99"


async def test_markdown_features_table(upstream: RecordingUpstream) -> None:
    """MarkdownIntegrationTest: front matter, sections and tables; the first table's first row is GA."""
    status, body = await _rest_answer(upstream, "markdown-capability.yaml", "test-markdown", "/markdown/features", "/api/readme", "sample-readme.md", "text/markdown")
    assert status == 200
    assert body[0]["status"] == "GA"


@pytest.mark.parametrize(("name", "fmt"), [("avro-capability.yaml", "avro"), ("proto-capability.yaml", "protobuf")])
async def test_binary_format_capability_loads_and_serves(name: str, fmt: str) -> None:
    """AvroIntegrationTest / ProtobufIntegrationTest: one expose, one consume, one operation with outputRawFormat."""
    cap = load_ok(f"formats/{name}")
    assert len(cap.adapters) == 1 and len(cap.consumes) == 1
    [op] = cap.consumes[0].operations
    assert op.output_format == fmt
    async with serve(f"formats/{name}") as served:
        assert ("rest", cap.adapters[0].namespace) in served.runtime.started
