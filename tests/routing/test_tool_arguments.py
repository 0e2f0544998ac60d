"""An MCP tool's input schema lists every argument its call needs, and never one the API's authentication sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.capability.loader import load

from ..support.paths import CORPUS
from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

TOOLS = """\
naftiko: 1.0.0-alpha2
info: {label: Rules, description: Tools whose declared inputs forget what their call needs.}
binds:
- namespace: keys
  keys: {WEATHER_KEY: WEATHER_KEY}
capability:
  consumes:
  - type: http
    namespace: orgs
    baseUri: https://api.example.com/stores/{store_hash}/v2
    resources:
    - name: rules
      path: /orgs/{orgId}/apps/{appId}/rules/{ruleId}
      operations:
      - {name: get-rule, method: GET}
  - type: http
    namespace: weather
    baseUri: https://weather.example.com
    authentication: {type: apikey, key: appid, value: '{{WEATHER_KEY}}', placement: query}
    resources:
    - name: now
      path: /now
      operations:
      - name: get-now
        method: GET
        inputParameters:
        - {name: appid, in: query, required: true}
        - {name: city, in: query, required: true}
  exposes:
  - type: mcp
    port: 9090
    namespace: tools
    tools:
    - name: get-rule
      description: One rule.
      call: orgs.get-rule
      inputParameters:
      - {name: ruleId, type: string, required: true, description: The rule.}
    - name: now
      description: The weather now.
      call: weather.get-now
"""


def _schemas(file: Path) -> dict[str, dict]:
    result = load(file)
    assert result.ok, [str(d) for d in result.errors]
    from naftiko_runtime.exposes.mcp.schema import input_schema

    return {t.name: input_schema(t) for a in result.capability.adapters if a.type == "mcp" for t in a.tools}


def test_placeholders_the_declared_inputs_forget_are_listed_required_and_validate_warns(tmp_path: Path) -> None:
    file = tmp_path / "tools.yaml"
    file.write_text(TOOLS)
    schema = _schemas(file)["get-rule"]
    assert schema["required"] == ["ruleId", "orgId", "appId", "store_hash"]
    assert schema["properties"]["orgId"]["type"] == "string" and schema["properties"]["orgId"]["description"]
    assert "base URI" in schema["properties"]["store_hash"]["description"]
    warnings = [d.message for d in load(file).diagnostics if d.severity == "warning"]
    assert any("'orgId'" in w and "required argument" in w for w in warnings), warnings


def test_a_parameter_the_authentication_sends_is_not_asked_of_the_caller(tmp_path: Path) -> None:
    file = tmp_path / "tools.yaml"
    file.write_text(TOOLS)
    schema = _schemas(file)["now"]
    assert schema["required"] == ["city"] and "appid" not in schema["properties"]


async def test_the_inferred_arguments_route_the_call(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "tools.yaml"
    file.write_text(TOOLS)
    upstream.route("GET", "/stores/s1/v2/orgs/o1/apps/a1/rules/r1", reply(json={"id": "r1"}))
    upstream.route("GET", "/now", reply(json={"t": 20}))
    async with serve(file, {"*": upstream.url}, env={"WEATHER_KEY": "k-123"}) as served, served.mcp("tools") as client:
        rule = await client.call_tool("get-rule", {"ruleId": "r1", "orgId": "o1", "appId": "a1", "store_hash": "s1"})
        now = await client.call_tool("now", {"city": "Paris"})
    assert not rule.is_error and not now.is_error, (rule.content, now.content)
    assert [r.target for r in upstream.requests] == ["/stores/s1/v2/orgs/o1/apps/a1/rules/r1", "/now?city=Paris&appid=k-123"]


def test_discord_global_commands_lists_application_id() -> None:
    """The issue's example: `getglobalapplicationcommands` listed only `with_localizations`."""
    file = CORPUS / "discord" / "discord-capability.yaml"
    if not file.exists():
        pytest.skip("corpus not present")
    schema = _schemas(file)["getglobalapplicationcommands"]
    assert "application_id" in schema["required"] and "with_localizations" in schema["properties"]
