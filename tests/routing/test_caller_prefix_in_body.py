"""A consumed template that names the caller's values as a `with` reference would (`{{tools.query}}`) reads them.

Published files (hubspot/sales-pipeline.yaml, mastercard, twilio, ...) write consumed JSON bodies such as
`data: {query: '{{tools.query}}'}`. A consumed template has no `tools` name, so the reference engine, and
this runtime before, sent every such value empty: the right method and path with a hollow body.
"""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Caller prefix, description: Consumed bodies naming the caller's values with a prefix.}
capability:
  consumes:
  - type: http
    namespace: crm
    baseUri: https://crm.example.com
    resources:
    - name: search
      path: /contacts/search
      operations:
      - name: search-contacts
        method: POST
        body:
          type: json
          data:
            query: '{{tools.query}}'
            limit: '{{ rest.limit }}'
            plain: '{{query}}'
  exposes:
  - type: rest
    port: 8080
    namespace: api
    resources:
    - path: /search
      operations:
      - method: POST
        name: search
        call: crm.search-contacts
        inputParameters:
        - {name: query, in: body, type: string}
        - {name: limit, in: body, type: integer}
  - type: mcp
    port: 9090
    namespace: tools
    tools:
    - name: search
      description: Search contacts.
      call: crm.search-contacts
      inputParameters:
      - {name: query, type: string, description: Words to find.}
      - {name: limit, type: integer, description: At most this many.}
"""


def test_the_prefix_is_warned_where_it_is_written(tmp_path: Path) -> None:
    file = tmp_path / "cap.yaml"
    file.write_text(FILE)
    result = load(file)
    assert result.ok, [str(d) for d in result.errors]
    warned = [d for d in result.warnings if d.code == "consumed-template-caller-prefix"]
    lines = FILE.splitlines()
    assert sorted(lines[d.line - 1].split(":")[0].strip() for d in warned) == ["limit", "query"], [str(d) for d in warned]
    assert load(file, strict=True).refused(strict=True)


async def test_the_body_carries_the_callers_values(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "cap.yaml"
    file.write_text(FILE)
    upstream.route("POST", "/contacts/search", reply(json={"results": []}))
    async with serve(file, {"*": upstream.url}) as served, served.mcp("tools") as client:
        status, _ = await served.call("POST", served.rest("api") + "/search", json={"query": "ada", "limit": 5})
        result = await client.call_tool("search", {"query": "grace", "limit": 2})
    assert status == 200 and not result.is_error
    assert [r.json for r in upstream.requests] == [
        {"query": "ada", "limit": 5, "plain": "ada"},
        {"query": "grace", "limit": 2, "plain": "grace"},
    ]
