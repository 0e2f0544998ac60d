"""A call whose namespace is declared nowhere resolves when its intent is unambiguous (with a warning naming
file:line:col and the choice), as in youtube/community-engagement.yaml (`youtube-data.…` for `youtube-data-api`);
otherwise it stays unresolved (two different operations of that name). The other readings (identical duplicates,
bare verbs, method-resource names) are in test_guessed_operations.py."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Guessed, description: Namespaces written loosely.}
capability:
  consumes:
  - type: http
    namespace: video-data-api
    baseUri: https://video.example.com/v3
    resources:
    - {name: comments, path: /comments, operations: [{name: list-comments, method: GET}]}
  - type: http
    namespace: billing
    baseUri: https://billing.example.com
    resources:
    - {name: invoices, path: /invoices, operations: [{name: list-invoices, method: GET}, {name: list, method: GET}]}
    - {name: credits, path: /credits, operations: [{name: list, method: GET}]}
  exposes:
  - type: rest
    port: 8080
    namespace: api
    resources:
    - path: /comments
      operations:
      - {method: GET, name: comments, call: video-data.list-comments}
    - path: /invoices
      operations:
      - {method: GET, name: invoices, call: billing-v2.list-invoices}
    - path: /anything
      operations:
      - {method: GET, name: anything, call: payments.list}
  - type: mcp
    port: 9090
    namespace: tools
    tools:
    - {name: comments, description: The comments., call: video-data.list-comments}
"""


def test_an_unambiguous_namespace_resolves_with_a_located_warning(tmp_path: Path) -> None:
    file = tmp_path / "guessed.yaml"
    file.write_text(FILE)
    result = load(file)
    warned = {d.message.split("'")[1]: d for d in result.diagnostics if d.code == "guessed-namespace"}
    assert set(warned) == {"video-data.list-comments", "billing-v2.list-invoices"}
    lines = FILE.splitlines()
    located = [(d.line, d.col) for d in result.diagnostics if d.code == "guessed-namespace"]
    assert len(located) == 3 and all("call: " in lines[line - 1] and col > 1 for line, col in located)
    assert "resolves to 'video-data-api.list-comments'" in warned["video-data.list-comments"].message
    assert "resolves to 'billing.list-invoices'" in warned["billing-v2.list-invoices"].message
    # two operations named `list`, and no namespace like `payments`: genuinely unresolvable
    unresolved = [d.message for d in result.diagnostics if d.code == "unresolved-call"]
    assert len(unresolved) == 1 and "payments.list" in unresolved[0]


async def test_the_guessed_namespace_routes_on_both_adapters(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "guessed.yaml"
    file.write_text(FILE)
    upstream.route("GET", "/v3/comments", reply(json=[]))
    upstream.route("GET", "/invoices", reply(json=[]))
    async with serve(file, {"*": upstream.url}) as served, served.mcp("tools") as client:
        comments = await served.call("GET", served.rest("api") + "/comments")
        invoices = await served.call("GET", served.rest("api") + "/invoices")
        anything = await served.call("GET", served.rest("api") + "/anything")
        tool = await client.call_tool("comments", {})
    assert comments[0] == 200 and invoices[0] == 200 and anything[0] == 503, (comments, invoices, anything)
    assert not tool.is_error
    assert [r.raw_path for r in upstream.requests] == ["/v3/comments", "/invoices", "/v3/comments"]
