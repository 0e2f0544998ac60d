"""The reference engine's MCP fixtures (src/test/resources/mcp, nested-object-output), as its JUnit tests assert."""

from __future__ import annotations

import sys

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from ..support.paths import ROOT
from ..support.recording_upstream import RecordingUpstream, reply
from .helpers import fixture, load_ok, serve

QUERY_RESULT = {"results": [{"id": "p1", "properties": {"Name": {"title": [{"text": {"content": "Ada"}}]},
                                                        "Status": {"select": {"name": "Committed"}}}}]}


async def test_mcp_capability_tool_posts_query_with_literal_with(upstream: RecordingUpstream) -> None:
    """McpIntegrationTest: adapter test-mcp on localhost:9095, one tool query-database calling mock-api.query-db with
    datasource_id test-db-id-123 (POST /v1/databases/test-db-id-123/query), its output mapped."""
    cap = load_ok("mcp/mcp-capability.yaml")
    [adapter] = cap.adapters
    assert (adapter.type, adapter.namespace, adapter.address, adapter.port) == ("mcp", "test-mcp", "localhost", 9095)
    upstream.route("POST", "/v1/databases/test-db-id-123/query", reply(json=QUERY_RESULT))
    async with serve("mcp/mcp-capability.yaml", upstream.url) as served, served.mcp("test-mcp") as client:
        [tool] = (await client.list_tools()).tools
        assert tool.name == "query-database" and "Query the test database" in (tool.description or "")
        result = await client.call_tool("query-database", {})
    [seen] = upstream.requests
    assert seen.json == {"filter": {"property": "Status", "select": {"equals": "Committed"}}}
    assert not result.is_error
    assert result.structured_content == {"result": [{"name": "Ada", "status": "Committed"}]}


@pytest.mark.deviation("undeclared hints are inferred from the consumed HTTP method (and openWorld from calling out); "
                       "the reference leaves them unset and gives a tool with neither hints nor label no annotations")
async def test_mcp_hints_map_to_tool_annotations() -> None:
    """McpToolHintsIntegrationTest: every declared hint and the label become annotations exactly as the reference asserts
    (read-data: title, readOnly, openWorld; delete-record: all four, no title). Where the reference leaves a hint out,
    the runtime states what the GET it calls implies (read-only, not destructive, idempotent, open world)."""
    async with serve("mcp/mcp-hints-capability.yaml") as served, served.mcp("hints-mcp") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert list(tools) == ["read-data", "delete-record", "no-hints-tool"]
    read = tools["read-data"].annotations
    assert tools["read-data"].title == "Read Data"
    assert read is not None and read.title == "Read Data"
    assert (read.read_only_hint, read.open_world_hint) == (True, True)  # declared
    assert (read.destructive_hint, read.idempotent_hint) == (False, True)  # reference: None; inferred from GET
    delete = tools["delete-record"].annotations
    assert delete is not None and delete.title is None
    assert (delete.read_only_hint, delete.destructive_hint, delete.idempotent_hint, delete.open_world_hint) == (False, True, True, False)
    plain = tools["no-hints-tool"].annotations  # reference: no annotations at all
    assert plain is not None and plain.title is None
    assert (plain.read_only_hint, plain.destructive_hint, plain.idempotent_hint, plain.open_world_hint) == (True, False, True, True)


async def test_mcp_resources_and_prompts_listed_read_and_rendered(upstream: RecordingUpstream) -> None:
    """ResourcesPromptsIntegrationTest: one concrete resource and one template; two prompts, the second multi-turn."""
    upstream.route("POST", "/v1/databases/test-db-id-123/query", reply(json={"results": []}))
    async with serve("mcp/mcp-resources-prompts-capability.yaml", upstream.url) as served, served.mcp("test-mcp-resources-prompts") as client:
        resources = {r.uri: r for r in (await client.list_resources()).resources}
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert list(resources) == ["data://databases/pre-release/schema"]
        schema = resources["data://databases/pre-release/schema"]
        assert schema.name == "database-schema" and schema.mime_type == "application/json"
        assert templates == {"data://users/{userId}/profile"}
        await client.read_resource("data://databases/pre-release/schema")
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert list(prompts) == ["participant-outreach", "summary-prompt"]
        outreach = prompts["participant-outreach"]
        assert [(a.name, a.required) for a in outreach.arguments or []] == [("participant_name", True), ("product_name", True)]
        summary = await client.get_prompt("summary-prompt", {"data": "x", "format": "table"})
        assert [m.role for m in summary.messages] == ["user", "assistant", "user"]
    assert upstream.hits("POST", "/v1/databases/test-db-id-123/query")


async def test_mcp_stdio_initialize_list_and_ping() -> None:
    """StdioIntegrationTest: `transport: stdio` in the file (no --stdio flag): over stdio, initialize answers 2025-11-25 with serverInfo test-mcp-stdio; one tool."""
    args = ["-m", "naftiko_runtime", "run", str(fixture("mcp/mcp-stdio-capability.yaml")), "--rest-port", "0"]
    params = StdioServerParameters(command=sys.executable, args=args, cwd=str(ROOT))
    async with Client(params, mode="legacy") as client:
        assert client.protocol_version == "2025-11-25"
        assert client.server_info is not None and client.server_info.name == "test-mcp-stdio"
        tools = (await client.list_tools()).tools
        assert [t.name for t in tools] == ["query-database"]
        await client.send_ping()


async def test_mcp_step_with_namespace_qualified_reference(upstream: RecordingUpstream) -> None:
    """StepWithNamespaceIntegrationTest: `with: {voyageId: shipyard-tools.voyageId}` gives the step VOY-2026-042."""
    upstream.route("GET", "/voyages/VOY-2026-042", reply(json={"voyageId": "VOY-2026-042"}))
    async with serve("mcp/mcp-step-with-namespace-capability.yaml", upstream.url) as served, served.mcp("shipyard-tools") as client:
        result = await client.call_tool("get-voyage-manifest", {"voyageId": "VOY-2026-042"})
    assert upstream.hits("GET", "/voyages/VOY-2026-042"), [r.target for r in upstream.requests]
    assert not result.is_error
    assert result.structured_content == {"voyageId": "VOY-2026-042"}


async def test_mcp_tool_handler_resolves_mustache_in_with(upstream: RecordingUpstream) -> None:
    """ToolHandlerTest: `with: {imo_number: "{{imo}}"}` resolves; get-ship with imo IMO-9321483 does not fail."""
    upstream.route("GET", "/ships/IMO-9321483", reply(json={"imo": "IMO-9321483"}))
    async with serve("mcp/mcp-tool-handler-with-mustache-capability.yaml", upstream.url) as served, served.mcp("shipyard-tools") as client:
        result = await client.call_tool("get-ship", {"imo": "IMO-9321483"})
    assert upstream.hits("GET", "/ships/IMO-9321483")
    assert not result.is_error


async def test_nested_object_output_mapping(upstream: RecordingUpstream) -> None:
    """NestedObjectOutputMappingIntegrationTest: a nested `specs` object mapped from flat and nested upstream fields."""
    upstream.route("GET", "/ships/IMO-9321483", reply(json={
        "imo_number": "IMO-9321483", "vessel_name": "Northern Star", "operational_status": "active",
        "year_built": 2015, "gross_tonnage": 42000, "dimensions": {"length_overall": 229},
    }))
    async with serve("nested-object-output-capability.yaml", upstream.url) as served, served.mcp("test-tools") as client:
        result = await client.call_tool("get-ship", {"imo": "IMO-9321483"})
    assert result.structured_content == {
        "imo": "IMO-9321483", "name": "Northern Star", "status": "active",
        "specs": {"yearBuilt": 2015, "tonnage": 42000, "length": 229},
    }
