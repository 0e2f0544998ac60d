"""Every diagnostic names the model part it concerns, as data: a broken part can be disabled alone."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability.diagnostics import Part
from naftiko_runtime.capability.loader import load

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info:
  label: Parts
  description: Diagnostics attached to parts.
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://api.example.com
    resources:
    - name: things
      path: /things
      operations:
      - name: list-things
        method: GET
  exposes:
  - type: rest
    namespace: api
    port: 9090
    resources:
    - path: /things
      operations:
      - method: GET
        call: up.list-things
      - method: POST
        call: up.no-such-operation
  - type: mcp
    namespace: tools
    port: 9191
    tools:
    - name: good
      description: Works.
      call: up.list-things
    - name: broken
      description: Calls nothing.
      call: nowhere.no-such-thing  # (nowhere.list-things would resolve: one operation of that name)
    - name: pattern
      description: Has a bad pattern.
      inputParameters:
      - name: q
        type: string
        description: A query.
        pattern: "("
      call: up.list-things
"""


def test_unresolved_calls_disable_only_their_own_parts(tmp_path: Path) -> None:
    path = tmp_path / "cap.yaml"
    path.write_text(CAPABILITY)
    result = load(path)
    assert result.capability is not None
    route = Part("route", "POST /things", Part("adapter", "api"))
    tool = Part("tool", "broken", Part("adapter", "tools"))
    param = Part("parameter", "q", Part("tool", "pattern", Part("adapter", "tools")))
    assert set(result.disabled) == {route, tool, param}
    assert all("answers 503" in why for p, why in result.disabled.items() if p != param)
    rest, mcp = result.capability.adapters
    ops = {op.method: op.action for op in rest.resources[0].operations}  # type: ignore[union-attr]
    assert ops["GET"].broken is None and ops["POST"].broken
    tools = {t.name: t for t in mcp.tools}  # type: ignore[union-attr]
    assert tools["good"].broken is None and tools["broken"].broken and tools["pattern"].broken is None
    assert tools["pattern"].inputs == []  # the broken parameter is left out; its tool still runs


def test_an_error_names_its_innermost_part_and_the_json_form_carries_it(tmp_path: Path) -> None:
    path = tmp_path / "cap.yaml"
    path.write_text(CAPABILITY)
    result = load(path)
    bad = [d for d in result.errors if "pattern is not a valid regular expression" in d.message]
    assert len(bad) == 1
    part = bad[0].part
    assert part == Part("parameter", "q", Part("tool", "pattern", Part("adapter", "tools")))
    assert bad[0].disables and not result.ok and result.servable
    assert bad[0].as_json()["part"] == {
        "kind": "parameter", "name": "q",
        "within": {"kind": "tool", "name": "pattern", "within": {"kind": "adapter", "name": "tools", "within": None}},
    }
    assert bad[0].line > 0 and bad[0].field.endswith("inputParameters[0].pattern")


def test_input_patterns_are_compiled_at_load(tmp_path: Path) -> None:
    path = tmp_path / "cap.yaml"
    path.write_text(CAPABILITY.replace('pattern: "("', 'pattern: "^[a-z]+$"'))
    result = load(path)
    assert result.capability is not None
    mcp = result.capability.adapters[1]
    (param,) = next(t for t in mcp.tools if t.name == "pattern").inputs  # type: ignore[union-attr]
    assert param.regex is not None and param.regex.search("abc") and not param.regex.search("ABC")
