"""Upstream auth schemes from binds, output mapping shapes and response formats."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ..conftest import HTTP_CLIENTS
from ..support.recording_upstream import reply
from .helpers import mcp_incoming, sent_headers, tool


@pytest.fixture(params=HTTP_CLIENTS)
def http_client(request: pytest.FixtureRequest) -> str:
    """Overrides the suite's aiohttp-only fixture: the same credentials and answers over either client."""
    return str(request.param)

AUTH_CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {{label: auth, description: upstream auth}}
binds:
  - namespace: env
    keys:
      USER: SVC_USER
      PASS: SVC_PASS
      KEY: SVC_KEY
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: https://upstream.invalid
      authentication: {auth}
      resources:
        - name: things
          path: /things
          operations:
            - name: list
              method: GET
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - name: list-things
          description: List things
          call: up.list
"""
ENV = {"SVC_USER": "svc", "SVC_PASS": "p@ss:word", "SVC_KEY": "k&y=1"}


@pytest.mark.parametrize(
    "auth, headers, query",
    [
        ("{type: bearer, token: '{{KEY}}'}", {"authorization": "Bearer k&y=1"}, []),
        ("{type: basic, username: '{{env.USER}}', password: '{{PASS}}'}",
         {"authorization": "Basic " + base64.b64encode(b"svc:p@ss:word").decode()}, []),
        ("{type: apikey, key: X-Api-Key, value: '{{KEY}}', placement: header}", {"x-api-key": "k&y=1"}, []),
        ("{type: apikey, key: api_key, value: '{{KEY}}', placement: query}", {}, [("api_key", "k&y=1")]),
    ],
    ids=["bearer", "basic", "apikey-header", "apikey-query"],
)
async def test_auth_schemes(auth: str, headers: dict, query: list, upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(AUTH_CAPABILITY.format(auth=auth))
    upstream.route("GET", "/things", reply(json=[]))
    await make_invoker(cap, env=ENV).invoke(tool(cap, "list-things"), mcp_incoming({"KEY": "caller", "USER": "caller"}))
    [seen] = upstream.requests
    assert sent_headers(seen) == headers
    assert seen.query == query


OUTPUT_CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: outputs, description: output shapes and formats}
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: https://upstream.invalid
      resources:
        - name: ship
          path: /ship
          operations:
            - {name: getship, method: GET}
        - name: json
          path: /data/json
          operations:
            - {name: getjson, method: GET, outputRawFormat: json}
        - name: xml
          path: /data/xml
          operations:
            - {name: getxml, method: GET, outputRawFormat: xml}
        - name: csv
          path: /data/csv
          operations:
            - {name: getcsv, method: GET, outputRawFormat: csv}
        - name: tsv
          path: /data/tsv
          operations:
            - {name: gettsv, method: GET, outputRawFormat: tsv}
        - name: psv
          path: /data/psv
          operations:
            - {name: getpsv, method: GET, outputRawFormat: psv}
        - name: yaml
          path: /data/yaml
          operations:
            - {name: getyaml, method: GET, outputRawFormat: yaml}
        - name: html
          path: /data/html
          operations:
            - {name: gethtml, method: GET, outputRawFormat: html}
        - name: markdown
          path: /data/markdown
          operations:
            - {name: getmarkdown, method: GET, outputRawFormat: markdown}
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - name: ship
          description: shaped ship
          call: up.getship
          outputParameters:
            - type: object
              properties:
                imo: {type: string, mapping: $.imo}
                tonnage: {type: number, mapping: $.specs.tonnage}
                missing: {type: string, mapping: $.nope}
                specs:
                  type: object
                  properties:
                    year: {type: number, mapping: $.specs.yearBuilt}
                crew:
                  type: array
                  mapping: $.crew
                  items:
                    type: object
                    properties:
                      name: {type: string, mapping: $.fullName}
                      role: {type: string, mapping: $.role}
                names:
                  type: array
                  mapping: $.crew[*].fullName
                  items: {type: string, mapping: $.}
        - name: scalar
          description: one scalar
          call: up.getship
          outputParameters:
            - {type: string, mapping: $.imo}
"""

SHIP = {
    "imo": "IMO-1", "specs": {"tonnage": 5000, "yearBuilt": 2001},
    "crew": [{"fullName": "Ada", "role": "captain", "x": 1}, {"fullName": "Bob", "role": "cook"}],
}


async def test_object_properties_arrays_and_nested_objects(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(OUTPUT_CAPABILITY)
    upstream.route("GET", "/ship", reply(json=SHIP))
    outcome = await make_invoker(cap).invoke(tool(cap, "ship"), mcp_incoming({}))
    assert outcome.data == {
        "imo": "IMO-1", "tonnage": 5000, "missing": None, "specs": {"year": 2001},
        "crew": [{"name": "Ada", "role": "captain"}, {"name": "Bob", "role": "cook"}],
        "names": ["Ada", "Bob"],
    }


async def test_scalar_mapping(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(OUTPUT_CAPABILITY)
    upstream.route("GET", "/ship", reply(json=SHIP))
    outcome = await make_invoker(cap).invoke(tool(cap, "scalar"), mcp_incoming({}))
    assert outcome.data == "IMO-1"


USERS = [{"id": "1", "name": "Alice Smith", "email": "alice@example.com"}, {"id": "2", "name": "Bob, Jr", "email": "bob@example.com"}]
BODIES = {
    "getxml": ("POST", "application/xml",
               "<users><user><id>1</id><name>Alice Smith</name><email>alice@example.com</email></user>"
               "<user><id>2</id><name>Bob, Jr</name><email>bob@example.com</email></user></users>",
               {"user": USERS}),
    "getcsv": ("PUT", "text/csv", 'id,name,email\n1,Alice Smith,alice@example.com\n2,"Bob, Jr",bob@example.com\n', USERS),
    "gettsv": ("PATCH", "text/tab-separated-values", "id\tname\temail\n1\tAlice Smith\talice@example.com\n2\tBob, Jr\tbob@example.com\n", USERS),
    "getpsv": ("DELETE", "text/plain", "id|name|email\n1|Alice Smith|alice@example.com\n2|Bob, Jr|bob@example.com\n", USERS),
    "getyaml": ("OPTIONS", "application/yaml", "- {id: '1', name: Alice Smith, email: alice@example.com}\n"
                "- {id: '2', name: 'Bob, Jr', email: bob@example.com}\n", USERS),
    "getjson": ("GET", "application/json", '[{"id": "1", "name": "Alice Smith", "email": "alice@example.com"},'
                ' {"id": "2", "name": "Bob, Jr", "email": "bob@example.com"}]', USERS),
}


@pytest.mark.parametrize("op", list(BODIES))
async def test_response_formats(op: str, upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    _method, ctype, body, expected = BODIES[op]
    text = OUTPUT_CAPABILITY + f"""\
        - name: fmt-{op}
          description: format {op}
          call: up.{op}
          outputParameters:
            - {{type: object, mapping: $.}}
"""
    cap = write_capability(text)
    upstream.route("GET", f"/data/{op[3:]}", reply(body=body, content_type=ctype))
    outcome = await make_invoker(cap).invoke(tool(cap, f"fmt-{op}"), mcp_incoming({}))
    assert outcome.data == expected


@pytest.mark.parametrize(
    "op, method, body",
    [
        ("gethtml", "GET", "<html><body><p>x</p><table><tr><th>id</th><th>name</th><th>email</th></tr>"
         "<tr><td>1</td><td>Alice Smith</td><td>alice@example.com</td></tr>"
         "<tr><td>2</td><td>Bob, Jr</td><td>bob@example.com</td></tr></table></body></html>"),
        ("getmarkdown", "POST", "# Users\n\n| id | name | email |\n|---|:---|---:|\n| 1 | Alice Smith | alice@example.com |\n"
         "| 2 | Bob, Jr | bob@example.com |\n"),
    ],
)
async def test_table_formats(op: str, method: str, body: str, upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    text = OUTPUT_CAPABILITY + f"""\
        - name: fmt-{op}
          description: format {op}
          call: up.{op}
          outputParameters:
            - {{type: object, mapping: $.}}
"""
    cap = write_capability(text)
    upstream.route("GET", f"/data/{op[3:]}", reply(body=body, content_type="text/html"))
    outcome = await make_invoker(cap).invoke(tool(cap, f"fmt-{op}"), mcp_incoming({}))
    # The reference engine's documents: tables as arrays of rows (markdown adds front matter and sections).
    if op == "gethtml":
        assert outcome.data == {"tables": [USERS]}
    else:
        assert outcome.data == {"frontMatter": {}, "tables": [USERS], "sections": [{"heading": "Users", "level": 1, "content": ""}]}
