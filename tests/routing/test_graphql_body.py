"""A JSON body leaf that starts with a brace but is not JSON, a GraphQL query with a placeholder inside
(`query: '{ products(first: {{limit}}) { … } }'`): it used to be rendered as a JSON template and every call
answered 400; it is a string in the JSON body, its placeholder filled."""

from __future__ import annotations

import json
from pathlib import Path

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: GraphQL, description: A GraphQL query in a JSON body.}
capability:
  consumes:
  - type: http
    namespace: store
    baseUri: https://store.example.com/api
    resources:
    - name: graphql
      path: /graphql
      operations:
      - name: get-products
        method: POST
        body:
          type: json
          data:
            query: '{ products(first: {{limit}}) { edges { node { id } } } }'
            variables: '{"first": {{limit}}}'
  exposes:
  - type: mcp
    port: 9090
    namespace: store-mcp
    tools:
    - name: products
      description: Some products.
      inputParameters:
      - {name: limit, type: number, description: How many.}
      call: store.get-products
"""


async def test_a_graphql_query_in_a_json_body_is_sent_as_a_string(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "graphql.yaml"
    file.write_text(FILE)
    upstream.route("POST", "/api/graphql", reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        async with served.mcp("store-mcp") as client:
            tool = await client.call_tool("products", {"limit": 3})
    assert not tool.is_error, tool
    [request] = upstream.requests
    assert json.loads(request.body) == {"query": "{ products(first: 3) { edges { node { id } } } }", "variables": {"first": 3}}
