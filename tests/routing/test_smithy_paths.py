"""Smithy-style consumed paths (`/tags#resourceARN&tagKeys`) and consumed paths that carry a literal query."""

from __future__ import annotations

from pathlib import Path

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Tags, description: Paths with a fragment or a query.}
capability:
  consumes:
  - type: http
    namespace: aws
    baseUri: https://aws.example.com
    resources:
    - name: tags-arn
      path: '/tags/{resourceArn}#tagKeys'
      operations:
      - name: untag
        method: DELETE
        inputParameters:
        - {name: resourceArn, in: path, type: string, required: true}
        - {name: tagKeys, in: query, type: array, required: true}
    - name: tags
      path: '/tags#resourceARN&tagKeys'
      operations:
      - {name: untag-all, method: DELETE}
    - name: search
      path: '/search?format=json'
      operations:
      - name: search
        method: GET
        inputParameters:
        - {name: q, in: query, type: string, required: true}
  exposes:
  - type: mcp
    port: 9090
    namespace: tools
    tools:
    - {name: untag, description: Untag., call: aws.untag}
    - {name: untag-all, description: Untag all., call: aws.untag-all}
    - {name: search, description: Search., call: aws.search}
"""


async def test_a_fragment_is_never_sent_and_its_names_are_query_parameters(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "tags.yaml"
    file.write_text(FILE)
    upstream.route("DELETE", "/tags/arn%3Aaws%3Ax", reply(status=204))
    upstream.route("DELETE", "/tags", reply(status=204))
    upstream.route("GET", "/search", reply(json=[]))
    async with serve(file, {"*": upstream.url}) as served, served.mcp("tools") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools["untag-all"].input_schema["properties"]) == {"resourceARN", "tagKeys"}
        results = [
            await client.call_tool("untag", {"resourceArn": "arn:aws:x", "tagKeys": ["a", "b"]}),
            await client.call_tool("untag-all", {"resourceARN": "arn:aws:y", "tagKeys": "k"}),
            await client.call_tool("search", {"q": "cats"}),
        ]
    assert [r.is_error for r in results] == [False] * 3, [r.content for r in results]
    assert [(r.method, r.target) for r in upstream.requests] == [
        ("DELETE", "/tags/arn%3Aaws%3Ax?tagKeys=a&tagKeys=b"),
        ("DELETE", "/tags?resourceARN=arn%3Aaws%3Ay&tagKeys=k"),
        ("GET", "/search?format=json&q=cats"),
    ]
