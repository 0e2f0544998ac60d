"""The shipped tools on the local engine through the SDK's MCP client: discovery on a fresh
engine, every promised filter forwarded, integers accepted where the API takes integers,
and a 2xx without a body that still says what happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from jsonschema import Draft202012Validator
from mcp.client import Client
from mcp_types import CallToolResult

from tests.support.runtime import Runtime

PR = "humanitec-pipelineruns.yaml"
APP = {"orgId": "demo-org", "appId": "demo-app"}
T = TypeVar("T")


async def until(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], deadline: float = 30.0) -> T:
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


async def test_an_agent_discovers_pipelines_and_apps_on_a_fresh_engine(runtimes: dict[str, Runtime]) -> None:
    async with Client(runtimes[PR].mcp) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        found = ok(await client.call_tool("list-pipelines", {"orgId": "demo-org"}))["result"]
        assert {"ci", "release"} <= {p["id"] for p in found}
        assert {p["app_id"] for p in found} == {"demo-app"}
        of_app = ok(await client.call_tool("list-app-pipelines", APP))["result"]
        assert {"ci", "release"} <= {p["id"] for p in of_app}
        one = ok(await client.call_tool("get-pipeline", {**APP, "pipelineId": "ci"}))
        assert one["id"] == "ci" and one["app_id"] == "demo-app" and one["version"]
        only = ok(await client.call_tool("list-pipelines", {"orgId": "demo-org", "app": "no-such-app"}))["result"]
        assert only == []
    for name in ("list-pipelines", "get-pipeline"):
        Draft202012Validator(tools[name].output_schema).validate(
            ok(await _call(runtimes[PR], name, {"orgId": "demo-org", **({"appId": "demo-app", "pipelineId": "ci"} if name == "get-pipeline" else {})})))


async def _call(runtime: Runtime, name: str, args: dict[str, Any]) -> CallToolResult:
    async with Client(runtime.mcp) as client:
        return await client.call_tool(name, args)


async def test_start_follow_and_filter_runs(runtimes: dict[str, Runtime]) -> None:
    async with Client(runtimes[PR].mcp) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        run = ok(await client.call_tool("start-pipeline-run", {**APP, "pipelineId": "ci", "inputs": {}}))
        Draft202012Validator(tools["start-pipeline-run"].output_schema).validate(run)
        where = {**APP, "pipelineId": "ci", "runId": run["id"]}
        done = await until(lambda: client.call_tool("get-pipeline-run", where),
                           lambda r: ok(r)["status"] in ("succeeded", "failed"))
        status = ok(done)["status"]
        # every filter the description promises is accepted and forwarded: status, app, pipeline
        same = ok(await client.call_tool("list-org-pipeline-runs", {"orgId": "demo-org", "status": status,
                                                                    "app": "demo-app", "pipeline": "ci", "per_page": 5}))
        assert run["id"] in {r["id"] for r in same["result"]}
        assert all(r["status"] == status for r in same["result"])
        other = "failed" if status == "succeeded" else "succeeded"
        none = ok(await client.call_tool("list-org-pipeline-runs", {"orgId": "demo-org", "status": other, "pipeline": "ci"}))
        assert run["id"] not in {r["id"] for r in none["result"]}
        assert ok(await client.call_tool("list-org-pipeline-runs", {"orgId": "demo-org", "pipeline": "release"}))["result"] == [] \
            or run["id"] not in {r["id"] for r in ok(await client.call_tool(
                "list-org-pipeline-runs", {"orgId": "demo-org", "pipeline": "release"}))["result"]}
        bad = await client.call_tool("list-org-pipeline-runs", {"orgId": "demo-org", "status": "running"})
        assert bad.is_error  # not one of the enum's values: refused before any call
        jobs = ok(await client.call_tool("list-run-jobs", where))["result"]
        assert jobs
        job = ok(await client.call_tool("get-run-job", {**where, "jobId": jobs[0]["id"]}))
        assert job["steps"]
        logs = ok(await client.call_tool("get-step-logs", {**where, "jobId": jobs[0]["id"], "stepIndex": 0}))
        assert isinstance(logs["result"], list)


async def test_an_empty_answer_says_what_happened(runtimes: dict[str, Runtime]) -> None:
    async with Client(runtimes[PR].mcp) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        dry = await client.call_tool("start-pipeline-run", {**APP, "pipelineId": "ci", "inputs": {}, "dry_run": True})
        assert not dry.is_error
        # a run's own `status` is a string: the HTTP code goes under `http_status`, and the SDK's client
        # (which validates structuredContent against the outputSchema) accepts the result
        assert dry.structured_content == {"ok": True, "http_status": 204}
        assert "204" in dry.content[0].text and "no content" in dry.content[0].text
        Draft202012Validator(tools["start-pipeline-run"].output_schema).validate(dry.structured_content)

        run = ok(await client.call_tool("start-pipeline-run", {**APP, "pipelineId": "release", "inputs": {}}))
        where = {**APP, "pipelineId": "release", "runId": run["id"]}
        cancelled = await client.call_tool("cancel-pipeline-run", where)
        if not cancelled.is_error:  # the run may already have finished (409): then there is nothing to cancel
            assert cancelled.structured_content == {"ok": True, "status": 204}
        await until(lambda: client.call_tool("get-pipeline-run", where),
                    lambda r: ok(r)["status"] in ("succeeded", "failed", "cancelled"))
        deleted = await client.call_tool("delete-pipeline-run", where)
        assert deleted.structured_content == {"ok": True, "status": 204}, deleted.content
        assert deleted.content[0].text.startswith("Done:")


async def test_the_other_files_tools_answer_in_their_declared_shapes(runtimes: dict[str, Runtime]) -> None:
    """Each mapped output is checked by the SDK's client against the tool's outputSchema."""
    async with Client(runtimes["local-pipelines.yaml"].mcp) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        example = tools["create-pipeline"].input_schema["properties"]["body"]["examples"][0]
        created = await client.call_tool("create-pipeline", {"body": {**example, "stages": example["stages"][:1]}})
        assert not created.is_error, created.content
        listed = ok(await client.call_tool("list-pipelines", {"limit": 5}))
        assert listed["data"] and listed["total"] >= 1
        pid = listed["data"][0]["id"]
        run = ok(await client.call_tool("trigger-pipeline", {"pipelineId": pid}))
        assert run["id"] and run["status"] in ("queued", "running")
        got = ok(await client.call_tool("get-run", {"pipelineId": pid, "runId": run["id"]}))
        assert got["id"] == run["id"] and isinstance(got["stageResults"], list)
        assert run["id"] in {r["id"] for r in ok(await client.call_tool("list-runs", {"pipelineId": pid}))["result"]}
    async with Client(runtimes["pipeline-runs-v0.yaml"].mcp) as client:
        started = ok(await client.call_tool("start-run", {"pipeline_id": "ci", "body": {"inputs": {}}}))["content"]
        one = ok(await client.call_tool("get-run", {"pipeline_id": "ci", "pipeline_run_id": started["id"]}))
        assert one["content"]["id"] == started["id"]
        runs = ok(await client.call_tool("list-runs", {"ordering": "-run_number"}))["content"]
        assert runs["count"] >= 1 and runs["results"][0]["run_number"] >= runs["results"][-1]["run_number"]
        bad = await client.call_tool("list-runs", {"status": "done"})
        assert bad.is_error  # not one of the statuses
    async with Client(runtimes["inngest-api.yaml"].mcp) as client:
        created = ok(await client.call_tool("create-cancellation", {
            "app_id": "demo-app", "function_id": "no-such-function", "started_before": "2000-01-01T00:00:00Z"}))
        assert created["data"]["id"]
        ok(await client.call_tool("delete-cancellation", {"id": created["data"]["id"]}))
        nobody = await client.call_tool("resume-signal", {"signal": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "data": {"approved": True}})
        assert not nobody.is_error  # documented: a 200 that names the problem


async def test_list_tools_say_how_to_get_the_next_page(runtimes: dict[str, Runtime]) -> None:
    """The upstream's `Link: <…>; rel="next"` is invisible over MCP: the result names the arguments."""
    async with Client(runtimes[PR].mcp) as client:
        for _ in range(2):
            ok(await client.call_tool("start-pipeline-run", {**APP, "pipelineId": "ci", "inputs": {}}))
        args = {"orgId": "demo-org", "pipeline": "ci", "per_page": 1}
        first = await client.call_tool("list-org-pipeline-runs", args)
        page = ok(first)
        assert len(page["result"]) == 1 and set(page["next_page"]) == {"page", "per_page"}
        assert "More results: call again with" in first.content[-1].text
        second = ok(await client.call_tool("list-org-pipeline-runs", {**args, **page["next_page"]}))
        assert len(second["result"]) == 1 and second["result"][0]["id"] != page["result"][0]["id"]
