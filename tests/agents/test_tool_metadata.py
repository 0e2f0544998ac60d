"""What "written for agents" means, asserted over every tool of every shipped capability file:
exactly what `tools/list` serves (`ToolSpec.as_tool`, the same code the server runs).

- a title, and a description that says what the tool does, when to use it and what it returns
  (at least 15 words, most of them not words of the tool's name);
- a name that reads as an action: a verb first, no dangling preposition or cut-off phrase;
- every parameter described with its meaning (no "Path parameter 'x' of /path" boilerplate);
- `enum` where values are fixed (statuses, orderings, triggers), integers typed `integer`;
- object arguments that say their shape (properties) or show an example;
- paging arguments on list tools (or a description saying the list is complete, not paged);
- an output schema on read tools whose answer has a stable shape;
- `naftiko validate --strict` clean.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp_types import Tool

from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import McpAdapter
from naftiko_runtime.exposes.mcp.server import ToolSpec

from .conftest import SHIPPED

VERBS = {"list", "get", "create", "start", "cancel", "delete", "restart", "update", "approve", "reject", "deny",
         "resume", "send", "trigger", "release", "run", "rerun", "set"}
DANGLING = {"within", "given", "cloning", "ordered", "including", "for", "of", "the", "a", "an", "to", "by", "with", "and"}
BOILERPLATE = re.compile(r"^(Path|Query|Header) parameter '|^Request body \(JSON\)|^The [A-Za-z]+ ID\.?$", re.IGNORECASE)
FIXED_VALUE_NAMES = {"status", "ordering", "order", "sort", "trigger", "state", "level"}
INTEGER_NAMES = re.compile(r"(Index|index|^per_page|^limit|^offset|^count)$")
PAGING = {"page", "per_page", "limit", "cursor", "offset"}
# Read tools without an output schema: their answer holds a free-form object that the alpha2 output
# mapping (strict) cannot pass through inside a described shape, so the answer is passed whole.
FREE_FORM = {
    "humanitec-event.yaml:get-webhook": "headers and payload are free-form objects",
    "inngest-runs.yaml:get-function-run": "data.output is whatever the function returned",
    "inngest-api.yaml:get-run": "data.output is whatever the function returned",
    "inngest-api.yaml:list-event-runs": "each run's output is whatever the function returned",
    "inngest-api.yaml:get-event": "data is the event's free-form payload",
    "inngest-api.yaml:list-events": "each event's data is a free-form payload",
    "inngest-api.yaml:list-cancellations": "each cancellation's expression is a free-form object",
    "inngest-api.yaml:list-webhooks": "each endpoint's transform settings are free-form",
    "inngest-api.yaml:get-webhook": "the endpoint's transform settings are free-form",
    "local-pipelines.yaml:get-pipeline": "each stage's config is a free-form object",
}


def _tools(path: Path) -> list[Tool]:
    result = load(path)
    assert result.capability is not None, result.errors
    return [ToolSpec.of(action).as_tool() for adapter in result.capability.adapters
            if isinstance(adapter, McpAdapter) for action in adapter.tools]


CASES = [(path.name, tool) for path in SHIPPED for tool in _tools(path)]


def test_every_shipped_file_serves_tools() -> None:
    counts = {path.name: len(_tools(path)) for path in SHIPPED}
    assert all(counts.values()), counts
    assert len(SHIPPED) >= 6


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_strict_validation_is_clean(path: Path) -> None:
    result = load(path, strict=True)
    assert not result.errors, "\n".join(str(d) for d in result.errors)


def problems(file: str, tool: Tool) -> list[str]:
    """Every way `tool` falls short of the rules in this module's docstring."""
    found: list[str] = []
    words = tool.name.split("-")
    if words[0] not in VERBS:
        found.append("the name should start with a verb")
    if words[-1] in DANGLING or len(words) > 5:
        found.append("the name reads like a cut-off phrase")
    if not tool.title:
        found.append("no title")
    description = tool.description or ""
    text_words = re.findall(r"[A-Za-z]+", description.lower())
    if len(text_words) < 15:
        found.append("the description is too short to say what, when and what it returns")
    if len([w for w in text_words if w not in set(words)]) < 10:
        found.append("the description restates the name")
    if not re.search(r"\breturns?\b|\bshows?\b|\bthe result\b|\bthe list\b", description, re.IGNORECASE):
        found.append("the description does not say what comes back")

    schema = tool.input_schema
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        found.append("the input schema is not a closed object")
    if not set(schema.get("required", [])) <= set(schema.get("properties", {})):
        found.append("required names a property that does not exist")
    for name, prop in schema.get("properties", {}).items():
        text = prop.get("description", "")
        if len(text.split()) < 3:
            found.append(f"{name}: no meaningful description")
        if BOILERPLATE.search(text):
            found.append(f"{name}: boilerplate description {text!r}")
        if (name.casefold() in FIXED_VALUE_NAMES or re.search(r"\bone of\b", text, re.IGNORECASE)) and not prop.get("enum"):
            found.append(f"{name}: fixed values without an enum")
        if INTEGER_NAMES.search(name) and prop.get("type") != "integer":
            found.append(f"{name}: should be an integer")
        if prop.get("type") == "object" and not (prop.get("properties") or prop.get("examples")):
            found.append(f"{name}: an object without properties or example")

    if words[0] == "list" and not PAGING & set(schema.get("properties", {})) and "not paged" not in description:
        found.append("a list tool without paging arguments (or a description saying it is not paged)")
    hints = tool.annotations
    if hints is None or None in (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint):
        found.append("hints are not all explicit")
    elif hints.read_only_hint and f"{file}:{tool.name}" not in FREE_FORM and not tool.output_schema:
        found.append("a read tool without an output schema")
    if tool.output_schema and not (tool.output_schema.get("type") == "object" and tool.output_schema.get("properties")):
        found.append("an output schema that describes nothing")
    return found


@pytest.mark.parametrize("case", CASES, ids=[f"{f}:{t.name}" for f, t in CASES])
def test_tool_is_written_for_agents(case: tuple[str, Tool]) -> None:
    file, tool = case
    assert problems(file, tool) == [], f"{file}: {tool.name}"


def test_no_two_tools_of_a_file_share_a_title() -> None:
    for path in SHIPPED:
        titles = [t.title for t in _tools(path)]
        assert len(titles) == len(set(titles)), path.name


def test_the_readme_lists_every_tool_of_every_shipped_file() -> None:
    readme = (SHIPPED[0].parents[1] / "README.md").read_text()
    section = readme[readme.index("## Tools"):readme.index("## Running")]
    for path in SHIPPED:
        part = section[section.index(f"capabilities/{path.name}"):]
        for tool in _tools(path):
            assert f"`{tool.name}`" in part, f"README Tools: {path.name} lacks {tool.name}"


def test_free_form_exceptions_are_real() -> None:
    """Each read tool excused from an output schema exists and indeed has none."""
    tools = {f"{path.name}:{t.name}": t for path in SHIPPED for t in _tools(path)}
    for key in FREE_FORM:
        assert key in tools and tools[key].output_schema is None, key
