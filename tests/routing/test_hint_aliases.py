"""MCP's hint names (`readOnlyHint`, …) in a tool's `hints` are read as the alpha2 names, with a warning."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability.loader import load
from naftiko_runtime.exposes.mcp.schema import tool_annotations

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Hints, description: MCP-style hint names.}
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://up.example.com
    resources:
    - name: things
      path: /things
      operations:
      - {name: drop, method: POST}
  exposes:
  - type: mcp
    port: 9090
    namespace: tools
    tools:
    - name: drop
      description: Drops things.
      call: up.drop
      hints: {destructiveHint: true, idempotentHint: true, readOnlyHint: false, openWorldHint: false}
    - name: both
      description: The alpha2 name wins.
      call: up.drop
      hints: {destructive: false, destructiveHint: true}
"""


def test_mcp_hint_names_are_aliases_with_a_warning(tmp_path: Path) -> None:
    file = tmp_path / "hints.yaml"
    file.write_text(FILE)
    result = load(file)
    assert result.ok, [str(d) for d in result.errors]
    warned = [d for d in result.diagnostics if d.code == "hint-mcp-names"]
    assert len(warned) == 2 and all(d.severity == "warning" for d in warned)
    tools = {t.name: t for a in result.capability.adapters if a.type == "mcp" for t in a.tools}
    drop = tool_annotations(tools["drop"])
    assert (drop["destructiveHint"], drop["idempotentHint"], drop["readOnlyHint"], drop["openWorldHint"]) == (True, True, False, False)
    assert tool_annotations(tools["both"])["destructiveHint"] is False
    assert not load(file, strict=True).ok  # --strict keeps the deviation an error
