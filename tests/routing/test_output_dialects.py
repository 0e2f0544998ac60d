"""Output and hint fields written loosely, which used to disable the operation or tool that carries them: an output
`type: integer` (JSON Schema's word), descriptive `name`/`description` on a mapped output, MCP `hints` on a REST
operation. None changes which upstream request is made; each is a located warning, refused at `--strict`."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Outputs, description: Outputs written loosely.}
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: https://shop.example.com
    resources:
    - name: orders
      path: /orders
      operations:
      - name: list-orders
        method: GET
        outputParameters:
        - {name: total, type: integer, value: $.total}
  exposes:
  - type: rest
    port: 8080
    namespace: shop-rest
    resources:
    - path: /orders
      operations:
      - method: GET
        name: list
        call: shop.list-orders
        hints: {readOnly: true}
  - type: mcp
    port: 9090
    namespace: shop-mcp
    tools:
    - name: list-orders
      description: The orders.
      call: shop.list-orders
      outputParameters:
      - type: array
        name: orders
        description: Every order.
        mapping: $.orders
"""


async def test_loose_output_and_hint_fields_leave_the_operation_and_tool_served(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "outputs.yaml"
    file.write_text(FILE)
    result = load(file)
    assert result.ok, result.diagnostics
    codes = {(d.line, d.code) for d in result.diagnostics if d.severity == "warning"}
    assert {(15, "output-type-integer"), (26, "rest-operation-hints"), (36, "output-descriptive-fields")} <= codes, codes
    assert not [d for d in result.diagnostics if d.disables]
    assert load(file, strict=True).ok is False
    upstream.route("GET", "/orders", reply(json={"total": 2, "orders": [{"id": 1}, {"id": 2}]}))
    async with serve(file, {"*": upstream.url}) as served:
        status, text = await served.call("GET", served.rest("shop-rest") + "/orders")
        async with served.mcp("shop-mcp") as client:
            tool = await client.call_tool("list-orders", {})
    assert status == 200, text
    assert not tool.is_error, tool
    assert [r.raw_path for r in upstream.requests] == ["/orders", "/orders"]
