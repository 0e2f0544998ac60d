"""The reference engine's aggregate fixtures (src/test/resources/aggregates), as its JUnit tests assert."""

from __future__ import annotations

import pytest

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .helpers import fixture, get_json, serve


async def test_aggregate_basic_refs_inherit_call_inputs_description_and_hints(upstream: RecordingUpstream) -> None:
    """AggregateIntegrationTest: `ref` tools take the function's call, inputs and description; safe+idempotent
    semantics derive readOnly/destructive/idempotent annotations; the tool calls weather-api.get-forecast."""
    upstream.route("GET", "/v1/forecast", reply(json={"forecast": "sunny"}))
    async with serve("aggregates/aggregate-basic.yaml", upstream.url) as served:
        async with served.mcp("forecast-mcp") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert list(tools) == ["get-forecast", "get-forecast-inherited"]
            assert tools["get-forecast-inherited"].description == "Fetch current weather forecast for a location."
            assert list(tools["get-forecast"].input_schema["properties"]) == ["location"]
            hints = tools["get-forecast"].annotations
            assert hints is not None
            assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (True, False, True)
            result = await client.call_tool("get-forecast", {"location": "Paris"})
            assert not result.is_error, result.content
        assert upstream.hits("GET", "/v1/forecast")


@pytest.mark.deviation("openWorldHint is true for every tool that calls an upstream unless declared (the reference leaves "
                       "it unset), and a tool without ref takes its hints from the HTTP method it calls")
async def test_aggregate_hints_override_merges_explicit_over_derived() -> None:
    """AggregateIntegrationTest: semantics-derived hints, a partial override merged, an explicit override winning. Where
    the reference leaves openWorld unset (read-items) or derives nothing (plain-tool, no ref), the runtime states what
    calling out over GET implies."""
    async with serve("aggregates/aggregate-hints-override.yaml") as served, served.mcp("data-mcp") as client:
        tools = {t.name: t.annotations for t in (await client.list_tools()).tools}
    read, open_, delete = tools["read-items"], tools["read-items-open"], tools["delete-item"]
    assert read is not None and open_ is not None and delete is not None
    assert (read.read_only_hint, read.destructive_hint, read.idempotent_hint) == (True, False, True)
    assert read.open_world_hint is True  # reference: None
    assert (open_.read_only_hint, open_.destructive_hint, open_.idempotent_hint, open_.open_world_hint) == (True, False, True, True)
    assert (delete.read_only_hint, delete.destructive_hint, delete.idempotent_hint, delete.open_world_hint) == (False, True, True, False)
    plain = tools["plain-tool"]  # reference: no hints (no ref to derive them from); the runtime: from GET
    assert plain is not None
    assert (plain.read_only_hint, plain.destructive_hint, plain.idempotent_hint, plain.open_world_hint) == (True, False, True, True)


def test_aggregate_invalid_ref_is_refused() -> None:
    """AggregateIntegrationTest: a tool whose `ref` names no aggregate function fails to load."""
    result = load(fixture("aggregates/aggregate-invalid-ref.yaml"))
    assert not result.ok
    assert any("unknown.nonexistent" in d.message for d in result.errors)


async def test_aggregate_shared_mock_same_payload_over_mcp_and_rest() -> None:
    """AggregateSharedMockIntegrationTest: {"message": "Hello, Nina!", "source": "aggregate-mock"} from both adapters."""
    async with serve("aggregates/aggregate-shared-mock.yaml") as served:
        async with served.mcp("greeting-mcp") as client:
            result = await client.call_tool("hello", {"name": "Nina"})
        status, rest = await get_json(served, "GET", served.rest_url("greeting-rest") + "/hello", params={"name": "Nina"})
    assert not result.is_error
    assert result.structured_content == {"message": "Hello, Nina!", "source": "aggregate-mock"}
    assert status == 200 and rest == result.structured_content


async def test_aggregate_step_with_namespace_qualified_with(upstream: RecordingUpstream) -> None:
    """AggregateStepNamespaceIntegrationTest: `with: {voyage-id: shipyard.voyage-id}` in a step reaches the call."""
    upstream.route("GET", "/voyages/VOY-2026-042", reply(json={"voyageId": "VOY-2026-042"}))
    async with serve("aggregates/aggregate-step-with-namespace.yaml", upstream.url) as served, served.mcp("shipyard-mcp") as client:
        result = await client.call_tool("get-voyage-manifest", {"voyage-id": "VOY-2026-042"})
    assert upstream.hits("GET", "/voyages/VOY-2026-042"), [r.target for r in upstream.requests]
    assert not result.is_error
