"""A tool declared with only `ref` is named after the aggregate function it references (as the reference does)."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability.loader import load

from ..reference.helpers import serve

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: refs, description: ref-only tools}
capability:
  aggregates:
  - label: Greetings
    namespace: greet
    functions:
    - name: say-hello
      description: Say hello to someone.
      inputParameters:
      - {name: who, type: string, description: Who to greet.}
      outputParameters:
      - {name: greeting, type: string, value: "Hello, {{who}}!"}
  exposes:
  - type: mcp
    namespace: greeter
    port: 9100
    tools:
    - ref: greet.say-hello
"""


def test_ref_only_tool_loads_with_the_function_name(tmp_path: Path) -> None:
    file = tmp_path / "refs.yaml"
    file.write_text(CAPABILITY)
    result = load(file)
    assert result.ok, [str(d) for d in result.errors]
    assert result.capability is not None
    [adapter] = result.capability.adapters
    assert [t.name for t in adapter.tools] == ["say-hello"]


async def test_ref_only_tool_is_listed_and_called_by_the_function_name(tmp_path: Path) -> None:
    file = tmp_path / "refs.yaml"
    file.write_text(CAPABILITY)
    async with serve(str(file)) as served, served.mcp("greeter") as client:
        [tool] = (await client.list_tools()).tools
        assert (tool.name, tool.description) == ("say-hello", "Say hello to someone.")
        result = await client.call_tool("say-hello", {"who": "Ada"})
    assert not result.is_error
    assert "Hello, Ada!" in str(result.content)
