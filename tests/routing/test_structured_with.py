"""A `with` entry written as a list or mapping, the JSON value of a body parameter with references among its
leaves (a marketplace query's `filters: [{criteria: [{filterType: 8, value: tools.tag}]}]`). It used to disable
the tool; it is sent as that parameter's value, each leaf read like a `with` value of its own."""

from __future__ import annotations

import json
from pathlib import Path

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Structured with, description: A body parameter given as a structure.}
capability:
  consumes:
  - type: http
    namespace: gallery
    baseUri: https://gallery.example.com
    resources:
    - name: query
      path: /extensionquery
      operations:
      - name: query-extensions
        method: POST
        inputParameters:
        - {name: filters, in: body}
        - {name: flags, in: body}
  exposes:
  - type: mcp
    port: 9090
    namespace: gallery-mcp
    tools:
    - name: by-tag
      description: Extensions with a tag.
      inputParameters:
      - {name: tag, type: string, description: The tag.}
      call: gallery.query-extensions
      with:
        filters:
        - criteria:
          - {filterType: 1, value: tools.tag}
          pageSize: 20
        flags: 914
"""


async def test_a_structured_with_value_is_sent_with_its_references_filled(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "structured.yaml"
    file.write_text(FILE)
    result = load(file)
    assert result.ok, result.diagnostics
    assert [(d.severity, d.line) for d in result.diagnostics if d.code == "with-structured"] == [("warning", 29)]
    assert load(file, strict=True).ok is False
    upstream.route("POST", "/extensionquery", reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        async with served.mcp("gallery-mcp") as client:
            tool = await client.call_tool("by-tag", {"tag": "python"})
    assert not tool.is_error, tool
    [request] = upstream.requests
    assert json.loads(request.body) == {
        "filters": [{"criteria": [{"filterType": 1, "value": "python"}], "pageSize": 20}], "flags": 914}
