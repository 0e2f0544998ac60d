"""Templates with Mustache's meaning, and every alpha2 body form, as the upstream receives them."""

from __future__ import annotations

import email
import email.policy
from typing import Any
from urllib.parse import parse_qsl

import pytest

from ..conftest import HTTP_CLIENTS
from ..support.recording_upstream import reply
from .helpers import mcp_incoming, tool


@pytest.fixture(params=HTTP_CLIENTS)
def http_client(request: pytest.FixtureRequest) -> str:
    """Overrides the suite's aiohttp-only fixture: the same bodies and content types over either client."""
    return str(request.param)

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: bodies, description: every body form}
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: https://upstream.invalid
      resources:
        - name: raw
          path: /raw
          operations:
            - name: rawpost
              method: POST
              body: '{"name": "{{name}}", "tags": {{tags}}, "meta": {{meta}}, "n": {{n}}, "who": "{{user.name}}", "trace": "{{x-trace-id}}", "missing": "{{nope}}"}'
        - name: json
          path: /json
          operations:
            - name: jsonpost
              method: POST
              body:
                type: json
                data:
                  name: '{{name}}'
                  tags: '{{tags}}'
                  greeting: 'Hi {{name}}, {{tags}}'
                  fixed: 3
                  nested: {who: '{{user.name}}', list: ['{{n}}', literal]}
        - name: jsonstring
          path: /jsonstring
          operations:
            - name: jsonstringput
              method: PUT
              body: {type: json, data: '{"name": "{{name}}", "n": {{n}}}'}
        - name: text
          path: /text
          operations:
            - name: textpost
              method: POST
              body: {type: text, data: 'Hello {{name}} & {{tags}} {{meta}} {{user.name}}'}
        - name: xml
          path: /xml
          operations:
            - name: xmlpost
              method: POST
              body: {type: xml, data: '<vessel><name>{{name}}</name><n>{{n}}</n></vessel>'}
        - name: sparql
          path: /sparql
          operations:
            - name: sparqlpost
              method: POST
              body: {type: sparql, data: 'SELECT * WHERE { ?s ?p "{{name}}" }'}
        - name: form
          path: /form
          operations:
            - name: formpost
              method: POST
              body: {type: formUrlEncoded, data: {name: '{{name}}', tags: '{{tags}}', fixed: 'a b&c'}}
        - name: multipart
          path: /multipart
          operations:
            - name: multipartpost
              method: POST
              body:
                type: multipartForm
                data:
                  - {name: meta, value: '{{meta}}', contentType: application/json}
                  - {name: file, value: 'content of {{name}}', filename: notes.txt, contentType: text/plain}
        - name: search
          path: /search/{{user.name}}
          operations:
            - name: searchget
              method: GET
              inputParameters:
                - {name: q, in: query, value: '{{term}}|{{user.name}}|{{tags}}'}
                - {name: X-Trace, in: header, value: 'trace-{{x-trace-id}}'}
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - {name: raw, description: raw JSON template, call: up.rawpost}
        - {name: json, description: typed JSON body, call: up.jsonpost}
        - {name: jsonstring, description: JSON body from a string, call: up.jsonstringput}
        - {name: text, description: text body, call: up.textpost}
        - {name: xml, description: XML body, call: up.xmlpost}
        - {name: sparql, description: SPARQL body, call: up.sparqlpost}
        - {name: form, description: form body, call: up.formpost}
        - {name: multipart, description: multipart body, call: up.multipartpost}
        - name: search
          description: query and header templates, with templates
          call: up.searchget
          with:
            term: '{{a}} {{b}}'
"""

ARGS = {
    "name": '<b>Tom & "Jerry"</b>',
    "tags": ["a", "b c"],
    "meta": {"k": [1, True, None], "s": "ü"},
    "n": 42,
    "user": {"name": "ada"},
    "x-trace-id": "tr-7",
}


@pytest.fixture
def cap(write_capability: Any) -> Any:
    return write_capability(CAPABILITY)


async def send(cap: Any, make_invoker: Any, upstream: Any, name: str, args: dict[str, Any]) -> Any:
    path = f"/{name}"
    for method in ("POST", "PUT", "GET"):
        upstream.route(method, path, reply(json={"ok": True}))
    await make_invoker(cap).invoke(tool(cap, name), mcp_incoming(args))
    [seen] = upstream.requests
    return seen


async def test_raw_json_template_has_mustache_meaning(cap: Any, make_invoker: Any, upstream: Any) -> None:
    seen = await send(cap, make_invoker, upstream, "raw", ARGS)
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json == {
        "name": '<b>Tom & "Jerry"</b>',  # no HTML escaping, quotes escaped for JSON
        "tags": ["a", "b c"],  # lists and objects as JSON
        "meta": {"k": [1, True, None], "s": "ü"},
        "n": 42,
        "who": "ada",  # {{a.b}}
        "trace": "tr-7",  # hyphenated names
        "missing": "",  # Mustache: a missing value renders empty
    }


@pytest.mark.parametrize(
    "evil",
    ['x", "admin": true, "y": "', 'x\\", "admin": true, "y": "\\', "line\nbreak\ttab\u2028", "}{", '"'],
    ids=["quote", "backslash-quote", "control", "braces", "lone-quote"],
)
async def test_raw_json_template_string_values_cannot_break_out(evil: str, cap: Any, make_invoker: Any, upstream: Any) -> None:
    seen = await send(cap, make_invoker, upstream, "raw", {**ARGS, "name": evil, "user": {"name": evil}})
    body = seen.json
    assert set(body) == {"name", "tags", "meta", "n", "who", "trace", "missing"}
    assert body["name"] == evil and body["who"] == evil


async def test_raw_json_template_bare_position_takes_a_json_value(cap: Any, make_invoker: Any, upstream: Any) -> None:
    """`{{n}}` outside quotes: a string there becomes a JSON string, never raw JSON text."""
    seen = await send(cap, make_invoker, upstream, "raw", {**ARGS, "n": '1, "admin": true', "tags": "[]} , {"})
    body = seen.json
    assert "admin" not in body
    assert body["n"] == '1, "admin": true' and body["tags"] == "[]} , {"


async def test_typed_json_body_renders_leaves(cap: Any, make_invoker: Any, upstream: Any) -> None:
    seen = await send(cap, make_invoker, upstream, "json", ARGS)
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json == {
        "name": '<b>Tom & "Jerry"</b>',
        "tags": ["a", "b c"],  # a lone tag keeps its value's type
        "greeting": 'Hi <b>Tom & "Jerry"</b>, ["a","b c"]',
        "fixed": 3,
        "nested": {"who": "ada", "list": [42, "literal"]},
    }


async def test_json_body_from_a_string_template(cap: Any, make_invoker: Any, upstream: Any) -> None:
    seen = await send(cap, make_invoker, upstream, "jsonstring", {"name": 'q"uote', "n": 7})
    assert seen.method == "PUT"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json == {"name": 'q"uote', "n": 7}


async def test_text_body(cap: Any, make_invoker: Any, upstream: Any) -> None:
    seen = await send(cap, make_invoker, upstream, "text", ARGS)
    assert seen.headers["Content-Type"].startswith("text/plain")
    assert seen.body.decode() == 'Hello <b>Tom & "Jerry"</b> & ["a","b c"] {"k":[1,true,null],"s":"ü"} ada'


async def test_xml_body(cap: Any, make_invoker: Any, upstream: Any) -> None:
    seen = await send(cap, make_invoker, upstream, "xml", {"name": "Northern Star", "n": 3})
    assert seen.headers["Content-Type"] == "application/xml"
    assert seen.body == b"<vessel><name>Northern Star</name><n>3</n></vessel>"


async def test_sparql_body(cap: Any, make_invoker: Any, upstream: Any) -> None:
    seen = await send(cap, make_invoker, upstream, "sparql", {"name": "x"})
    assert seen.headers["Content-Type"] == "application/sparql-query"
    assert seen.body == b'SELECT * WHERE { ?s ?p "x" }'


async def test_form_url_encoded_body(cap: Any, make_invoker: Any, upstream: Any) -> None:
    seen = await send(cap, make_invoker, upstream, "form", {**ARGS, "name": "a&b=c d"})
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(seen.body.decode(), keep_blank_values=True) == [
        ("name", "a&b=c d"), ("tags", '["a","b c"]'), ("fixed", "a b&c"),
    ]


async def test_multipart_form_body(cap: Any, make_invoker: Any, upstream: Any) -> None:
    seen = await send(cap, make_invoker, upstream, "multipart", ARGS)
    ctype = seen.headers["Content-Type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    parts = await _multipart(seen.body, ctype)
    assert parts == [
        ("meta", None, "application/json", '{"k":[1,true,null],"s":"ü"}'),
        ("file", "notes.txt", "text/plain", 'content of <b>Tom & "Jerry"</b>'),
    ]


async def test_query_and_header_templates_and_with_templates(cap: Any, make_invoker: Any, upstream: Any) -> None:
    upstream.route("GET", "/search/ada%20l.", reply(json=[]))
    args = {**ARGS, "user": {"name": "ada l."}, "a": "x&y", "b": "#z"}
    await make_invoker(cap).invoke(tool(cap, "search"), mcp_incoming(args))
    [seen] = upstream.requests
    assert seen.raw_path == "/search/ada%20l."  # dotted name in a path placeholder, encoded
    assert seen.query == [("q", 'x&y #z|ada l.|["a","b c"]')]
    assert seen.headers["X-Trace"] == "trace-tr-7"


async def _multipart(body: bytes, content_type: str) -> list[tuple[str | None, str | None, str | None, str]]:
    """Parse multipart/form-data with the standard library's MIME parser (independent of aiohttp)."""
    message = email.message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP)
    assert message.is_multipart()
    out = []
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition", "")
        params = dict(part.get_params(header="content-disposition")[1:])
        assert disposition.startswith("form-data")
        out.append((params.get("name"), params.get("filename"), part.get_content_type() if part.get("Content-Type") else None,
                    part.get_payload(decode=True).decode()))
    return out


def test_form_and_xml_templates_escape_values() -> None:
    """A value can add neither a form field nor an XML element."""
    from naftiko_runtime.expressions.templates import Template

    form = Template.compile("name={{name}}&role=user", "form").render({"name": "a&role=admin"})
    assert form == "name=a%26role%3Dadmin&role=user"
    xml = Template.compile("<user><name>{{name}}</name></user>", "xml").render({"name": "</name><admin>1</admin><name>"})
    from xml.etree import ElementTree

    root = ElementTree.fromstring(xml)
    assert [child.tag for child in root] == ["name"] and root.find("name").text == "</name><admin>1</admin><name>"
