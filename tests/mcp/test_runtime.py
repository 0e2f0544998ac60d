"""`naftiko run` end to end over streamable HTTP: the shipped capability files, the SDK's
client, the bundled local engine as upstream.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from mcp.client import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from tests.support.runtime import poll_async

from .conftest import Running, post_json

APP = {"orgId": "demo-org", "appId": "demo-app"}
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out", "invalid"}
EXPECTED = {
    "humanitec-pipelineruns.yaml": 14,
    "humanitec-event.yaml": 7,
    "inngest-runs.yaml": 3,
}
T = TypeVar("T")


async def until(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], deadline: float = 30.0) -> T:
    """Poll `probe` until `accept` holds (the engine runs pipelines asynchronously)."""
    end = time.monotonic() + deadline
    value = await probe()
    while not accept(value):
        if time.monotonic() > end:
            raise AssertionError(f"condition not met within {deadline}s; last value: {value!r}")
        await asyncio.sleep(0.1)
        value = await probe()
    return value


def ok(result: CallToolResult) -> Any:
    assert not result.is_error, result.content
    return result.structured_content


# -- tools/list ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["legacy", "auto"])
@pytest.mark.parametrize("file", list(EXPECTED))
async def test_tools_list_per_shipped_file(runtimes: dict[str, Running], file: str, mode: str) -> None:
    async with Client(runtimes[file].url, mode=mode) as client:
        assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
        assert client.instructions and "Tools to" in client.instructions
        tools = (await client.list_tools()).tools
    assert len(tools) == EXPECTED[file]
    for tool in tools:
        assert tool.description
        schema = tool.input_schema
        assert schema["type"] == "object" and schema["properties"], tool.name  # callable from the schema alone
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) <= set(schema["properties"])
        hints = tool.annotations
        assert hints is not None
        assert None not in (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint)
        assert hints.open_world_hint is True


async def test_declared_schemas_of_the_pipeline_runs_file(runtimes: dict[str, Running]) -> None:
    async with Client(runtimes["humanitec-pipelineruns.yaml"].url) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    create = tools["start-pipeline-run"].input_schema
    assert {"orgId", "appId", "pipelineId", "inputs"} <= set(create["required"])
    assert create["properties"]["inputs"]["type"] == "object"
    assert create["properties"]["dry_run"]["type"] == "boolean"
    assert "dry_run" not in create["required"]
    logs = tools["get-step-logs"].input_schema
    assert logs["required"] == ["orgId", "appId", "pipelineId", "runId", "jobId", "stepIndex"]
    assert logs["properties"]["stepIndex"]["type"] == "integer"
    delete = tools["delete-pipeline-run"].annotations
    assert delete is not None and (delete.read_only_hint, delete.destructive_hint, delete.idempotent_hint) == (False, True, True)
    listing = tools["list-pipeline-runs"].annotations
    assert listing is not None and listing.read_only_hint is True


async def test_declared_schemas_of_the_event_and_inngest_files(runtimes: dict[str, Running]) -> None:
    async with Client(runtimes["humanitec-event.yaml"].url) as client:
        event = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    assert event["get-webhook"]["required"] == ["orgId", "appId", "jobId"]
    assert event["update-webhook"]["required"] == ["orgId", "appId", "jobId"]
    assert event["create-webhook"]["required"] == ["orgId", "appId", "id", "url", "triggers"]
    assert event["list-events"]["required"] == ["orgId"]
    assert "organization" in event["list-webhooks"]["properties"]["orgId"]["description"]
    async with Client(runtimes["inngest-runs.yaml"].url) as client:
        inngest = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    assert all(s["required"] == ["runId"] for s in inngest.values())


# -- the pipeline-run scenarios --------------------------------------------------------------


async def test_run_follow_to_succeeded_and_read_logs(runtimes: dict[str, Running]) -> None:
    async with Client(runtimes["humanitec-pipelineruns.yaml"].url) as client:
        run = ok(await client.call_tool("start-pipeline-run", {**APP, "pipelineId": "ci", "inputs": {}}))
        ids = {**APP, "pipelineId": "ci", "runId": run["id"]}
        assert run["status"] == "queued"

        async def status() -> str:
            return ok(await client.call_tool("get-pipeline-run", ids))["status"]

        assert await until(status, lambda s: s in TERMINAL) == "succeeded"
        jobs = ok(await client.call_tool("list-run-jobs", ids))["result"]
        assert {j["id"] for j in jobs} == {"lint", "test", "build"}
        assert all(j["status"] == "succeeded" for j in jobs)
        job = ok(await client.call_tool("get-run-job", {**ids, "jobId": "lint"}))
        assert job["id"] == "lint"
        logs = ok(await client.call_tool("get-step-logs", {**ids, "jobId": "lint", "stepIndex": 1}))["result"]
        assert any("lint ok" in line["message"] for line in logs)
        runs = ok(await client.call_tool("list-pipeline-runs", {**APP, "pipelineId": "ci"}))["result"]
        assert run["id"] in {r["id"] for r in runs}
        org_runs = ok(await client.call_tool("list-org-pipeline-runs", {"orgId": "demo-org"}))["result"]
        assert run["id"] in {r["id"] for r in org_runs}


async def test_cancel_restart_delete_a_release_run(runtimes: dict[str, Running]) -> None:
    async with Client(runtimes["humanitec-pipelineruns.yaml"].url) as client:
        run = ok(await client.call_tool("start-pipeline-run", {**APP, "pipelineId": "release", "inputs": {}}))
        ids = {**APP, "pipelineId": "release", "runId": run["id"]}

        async def current() -> dict[str, Any]:
            return ok(await client.call_tool("get-pipeline-run", ids))

        await until(current, lambda r: r["status"] == "executing")  # parked at the approval gate
        ok(await client.call_tool("cancel-pipeline-run", ids))
        assert (await until(current, lambda r: r["status"] in TERMINAL))["status"] == "cancelled"

        restarted = ok(await client.call_tool("restart-pipeline-run", ids))
        assert restarted["id"] != run["id"] and restarted["pipeline_id"] == "release"
        again = {**APP, "pipelineId": "release", "runId": restarted["id"]}
        ok(await client.call_tool("cancel-pipeline-run", again))

        deleted = await client.call_tool("delete-pipeline-run", ids)
        assert not deleted.is_error, deleted.content
        gone = await client.call_tool("get-pipeline-run", ids)
        assert gone.is_error and "404" in gone.content[0].text  # type: ignore[union-attr]


async def test_create_run_by_trigger_with_dry_run(runtimes: dict[str, Running]) -> None:
    async with Client(runtimes["humanitec-pipelineruns.yaml"].url) as client:
        result = await client.call_tool(
            "start-run-by-trigger",
            {**APP, "dry_run": True, "trigger": "deployment_request", "env_id": "development"},
        )
    # whatever the engine decides about this body, the answer is a well-formed tool result
    assert result.content and (result.is_error or isinstance(result.structured_content, dict))


# -- error shapes ----------------------------------------------------------------------------


async def test_error_shapes(runtimes: dict[str, Running]) -> None:
    async with Client(runtimes["humanitec-pipelineruns.yaml"].url) as client:
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("no-such-tool", {})
        assert unknown.value.code == INVALID_PARAMS and "no-such-tool" in unknown.value.message

        missing = await client.call_tool("get-pipeline-run", {**APP, "pipelineId": "ci"})
        assert missing.is_error
        assert "missing required argument 'runId'" in missing.content[0].text  # type: ignore[union-attr]

        wrong_type = await client.call_tool("start-pipeline-run", {**APP, "pipelineId": "ci", "inputs": "x"})
        assert wrong_type.is_error and "argument 'inputs'" in wrong_type.content[0].text  # type: ignore[union-attr]

        not_found = await client.call_tool("get-pipeline-run", {**APP, "pipelineId": "ci", "runId": "no-such-run"})
        assert not_found.is_error
        text = not_found.content[0].text  # type: ignore[union-attr]
        assert "404" in text and "no-such-run" in text
        assert not_found.structured_content["error"]["status"] == 404  # type: ignore[index]


# -- protocol versions and the two paths -----------------------------------------------------


@pytest.mark.parametrize("version", HANDSHAKE_PROTOCOL_VERSIONS)
def test_every_handshake_version_is_negotiated_at_mcp_and_root(runtimes: dict[str, Running], version: str) -> None:
    running = runtimes["humanitec-pipelineruns.yaml"]
    for url in (running.url, running.root_url):
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        status, headers, body = post_json(url, init)
        assert status == 200 and headers["content-type"].startswith("application/json")
        assert body["result"]["protocolVersion"] == version  # type: ignore[index]
        assert "mcp-session-id" not in {k.lower() for k in headers}  # stateless
        status, _, listed = post_json(url, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, {"mcp-protocol-version": version})
        assert status == 200 and len(listed["result"]["tools"]) == 14  # type: ignore[index]
        call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                "params": {"name": "list-pipeline-runs", "arguments": {**APP, "pipelineId": "ci"}}}
        status, _, called = post_json(url, call, {"mcp-protocol-version": version})
        result = called["result"]  # type: ignore[index]
        assert status == 200 and result["isError"] is False
        assert isinstance(json.loads(result["content"][0]["text"]), list)


def test_unknown_version_gets_the_latest_handshake_version(runtimes: dict[str, Running]) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "1999-01-01", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    _, _, body = post_json(runtimes["humanitec-pipelineruns.yaml"].url, init)
    assert body["result"]["protocolVersion"] == HANDSHAKE_PROTOCOL_VERSIONS[-1]  # type: ignore[index]


@pytest.mark.parametrize("path", ["url", "root_url"])
async def test_modern_version_by_discover(runtimes: dict[str, Running], path: str) -> None:
    url = getattr(runtimes["humanitec-pipelineruns.yaml"], path)
    async with Client(url, mode="auto") as client:
        assert client.protocol_version == MODERN_PROTOCOL_VERSIONS[-1] == "2026-07-28"
        assert client.server_info is not None and client.server_info.name == "humanitec-pipelineruns-mcp"
        result = await client.call_tool("list-pipeline-runs", {**APP, "pipelineId": "ci"})
    assert not result.is_error and "result" in result.structured_content


def test_health_on_the_mcp_port(runtimes: dict[str, Running]) -> None:
    port = runtimes["humanitec-pipelineruns.yaml"].port
    for path in ("/health/live", "/health/ready"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            assert response.status == 200 and json.loads(response.read())["status"] == "UP"


# -- webhooks and Inngest runs on the local engine --------------------------------------------


async def test_webhook_crud_deleting_one_leaves_the_others(runtimes: dict[str, Running]) -> None:
    async with Client(runtimes["humanitec-event.yaml"].url) as client:
        for n in (1, 2, 3):
            hook = {"id": f"hook-{n}", "url": f"http://127.0.0.1:9/hook-{n}",
                    "triggers": [{"scope": "environment", "type": "created"}]}
            ok(await client.call_tool("create-webhook", {**APP, **hook}))
        listed = ok(await client.call_tool("list-webhooks", APP))["result"]
        assert {h["id"] for h in listed} >= {"hook-1", "hook-2", "hook-3"}
        got = ok(await client.call_tool("get-webhook", {**APP, "jobId": "hook-2"}))
        assert got["id"] == "hook-2"
        patched = ok(await client.call_tool("update-webhook", {**APP, "jobId": "hook-2", "url": "http://127.0.0.1:9/new"}))
        assert patched["url"] == "http://127.0.0.1:9/new" and "id" not in patched
        assert ok(await client.call_tool("get-webhook", {**APP, "jobId": "hook-2"}))["url"] == "http://127.0.0.1:9/new"
        deleted = await client.call_tool("delete-webhook", {**APP, "jobId": "hook-1"})
        assert not deleted.is_error
        remaining = {h["id"] for h in ok(await client.call_tool("list-webhooks", APP))["result"]}
        assert "hook-1" not in remaining and {"hook-2", "hook-3"} <= remaining
        events = ok(await client.call_tool("list-events", {"orgId": "demo-org"}))["result"]
        assert {(e["scope"], e["type"]) for e in events} >= {("deployment", "started"), ("environment", "created")}
        ok(await client.call_tool("delete-all-webhooks", APP))
        assert ok(await client.call_tool("list-webhooks", APP))["result"] == []


async def test_inngest_run_status_and_jobs(runtimes: dict[str, Running]) -> None:
    running = runtimes["inngest-runs.yaml"]
    engine = _engine_url(running)
    # Inngest runs start from an event (`POST /e/{key}`); the ids come back from the engine.
    # the release pipeline waits at its approval gate: the run is certainly running when it is cancelled
    _, _, sent = post_json(f"{engine}/e/local", {"name": "demo/release.requested", "data": {}})
    event_id = sent["ids"][0]  # type: ignore[index]
    with urllib.request.urlopen(f"{engine}/v1/events/{event_id}/runs", timeout=5) as response:
        run_id = json.loads(response.read())["data"][0]["run_id"]
    async with Client(running.url) as client:
        status = ok(await client.call_tool("get-function-run", {"runId": run_id}))
        assert status["data"]["run_id"] == run_id
        jobs = ok(await client.call_tool("list-run-jobs", {"runId": run_id}))
        assert jobs
        cancelled = await client.call_tool("cancel-function-run", {"runId": run_id})
        assert not cancelled.is_error

        async def ended() -> dict | None:
            data = ok(await client.call_tool("get-function-run", {"runId": run_id}))["data"]
            return data if data["status"] != "Running" else None

        final = await poll_async(ended)
        assert final["status"] == "Cancelled" and final["ended_at"]


def _engine_url(running: Running) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{running.port}/health/ready", timeout=5) as response:
        namespaces = json.loads(response.read())["namespaces"]
    return next(n["upstream"] for n in namespaces if n["mode"] == "local-engine")
