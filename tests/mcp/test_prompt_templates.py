"""MCP prompts render through the one template engine, over the SDK's real client.

alpha2 prompts read `{{name}}` (letters, digits, `_`) and leave an argument not given as written;
other placeholder spellings are filled too, and flagged at load as a deviation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp.client import Client

from naftiko_runtime.binding.binds import resolve_capability_binds
from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import McpAdapter
from naftiko_runtime.exposes.mcp.server import build_server
from naftiko_runtime.expressions.templates import Template
from naftiko_runtime.invoke.client import UpstreamPool, UpstreamSettings
from naftiko_runtime.invoke.invoker import Invoker

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: prompts, description: prompts through the template engine}
capability:
  exposes:
    - type: mcp
      namespace: p
      port: 9999
      tools:
        - name: hello
          description: A mock.
          outputParameters:
            - {name: ok, type: string, value: yes}
      prompts:
        - name: alpha2
          label: alpha2 syntax
          description: Only alpha2 placeholders.
          arguments:
            - {name: imo, description: The ship.}
            - {name: focus, description: What to look at., required: false}
          template:
            - role: user
              content: "Inspect {{imo}} for {{focus}}; $1 \\\\1 {% raw %}"
        - name: spaced
          label: other spellings
          description: Placeholders alpha2 would leave as text.
          arguments:
            - {name: imo, description: The ship.}
            - {name: ship-name, description: Its name., required: false}
          template:
            - role: user
              content: "Inspect {{ imo }} named {{ship-name}}"
            - role: assistant
              content: "Looking at {{imo}}."
        - name: from-file
          label: from a file
          description: A prompt file.
          arguments:
            - {name: imo, description: The ship.}
          location: file:///./prompt.md
"""


@pytest.fixture
async def capability_file(tmp_path: Path) -> Path:
    (tmp_path / "prompt.md").write_text("Summarise {{imo}} and {{ other }}.\n")
    path = tmp_path / "cap.yaml"
    path.write_text(CAPABILITY)
    return path


@pytest.fixture
async def wired(capability_file: Path) -> AsyncIterator[tuple[McpAdapter, Invoker]]:
    cap = load(capability_file).capability
    assert cap is not None
    pool = UpstreamPool(UpstreamSettings(retries=0))
    adapter = next(a for a in cap.adapters if isinstance(a, McpAdapter))
    yield adapter, Invoker(cap, resolve_capability_binds(cap, {}), pool, {})
    await pool.close()


def test_prompts_compile_at_load_and_other_spellings_are_flagged(capability_file: Path) -> None:
    result = load(capability_file)
    assert result.capability is not None, result.errors
    flagged = [d for d in result.warnings if d.code == "prompt-placeholder"]
    assert sorted(d.message.split("'")[1] for d in flagged) == ["{{ imo }}", "{{ship-name}}"]
    assert all(d.line == 31 for d in flagged), [d.line for d in flagged]  # the `content:` line of `spaced`
    prompts = next(a for a in result.capability.adapters if isinstance(a, McpAdapter)).prompts
    contents = [m.content for p in prompts for m in p.template]
    assert all(isinstance(c, Template) and c.missing == "keep" for c in contents)
    assert load(capability_file, strict=True).errors  # a deviation is an error at --strict


async def test_prompts_render_through_the_engine(wired: tuple[McpAdapter, Invoker]) -> None:
    async with Client(build_server(*wired)) as client:  # entered here: anyio scopes must not cross tasks
        await _render_all(client)


async def _render_all(client: Client) -> None:
    got = await client.get_prompt("alpha2", {"imo": "IMO-1", "focus": "{{imo}} $0 \\g<0>"})
    assert got.messages[0].content.text == "Inspect IMO-1 for {{imo}} $0 \\g<0>; $1 \\1 {% raw %}"  # type: ignore[union-attr]
    partial = await client.get_prompt("alpha2", {"imo": "IMO-1"})
    assert partial.messages[0].content.text == "Inspect IMO-1 for {{focus}}; $1 \\1 {% raw %}"  # type: ignore[union-attr]
    spaced = await client.get_prompt("spaced", {"imo": "IMO-2"})
    assert [(m.role, m.content.text) for m in spaced.messages] == [  # type: ignore[union-attr]
        ("user", "Inspect IMO-2 named {{ship-name}}"), ("assistant", "Looking at IMO-2.")]
    from_file = await client.get_prompt("from-file", {"imo": "IMO-3"})
    assert from_file.messages[0].content.text == "Summarise IMO-3 and {{ other }}.\n"  # type: ignore[union-attr]
