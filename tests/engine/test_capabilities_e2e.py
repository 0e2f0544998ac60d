"""End to end: `naftiko run` serves the local-engine capability files (local-pipelines, inngest-api,
pipeline-runs-v0); with their token binds unset it starts the bundled engine in-process, and
the REST adapters drive the engine's APIs."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from naftiko_runtime.runtime import RunOptions, Runtime

from .helpers import call, wait_until

ROOT = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def naftiko_run(capability: str) -> AsyncIterator[str]:
    """The runtime `naftiko run CAPABILITY` starts, in this loop, with the file's token bind unset."""
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_PIPELINES_TOKEN", "PIPELINE_RUNS_TOKEN", "INNGEST_SIGNING_KEY")}
    runtime = Runtime(RunOptions(files=[ROOT / "capabilities" / capability], rest_port=0, mcp_port=0,
                                 engine_port=0, engine_db=":memory:", env=env))
    try:
        await runtime.start()
        assert any(m.mode == "local-engine" for m in runtime.modes), runtime.modes
        port = next(port for (kind, _), port in runtime.started.items() if kind == "rest")
        yield f"http://127.0.0.1:{port}"
    finally:
        await runtime.stop()


async def test_local_pipelines_capability_drives_the_seed_001_api(session: aiohttp.ClientSession) -> None:
    async with naftiko_run("local-pipelines.yaml") as base:
        status, p = await call(session, "POST", f"{base}/pipelines", json={
            "name": "e2e", "stages": [
                {"id": "gate", "name": "Gate", "type": "approval", "order": 1, "config": {"message": "go?"}},
                {"id": "tell", "name": "Tell", "type": "notify", "order": 2, "config": {"channel": "#e2e", "message": "shipped"}}]})
        assert status == 201, p
        assert [s["id"] for s in p["stages"]] == ["gate", "tell"]
        status, dup = await call(session, "POST", f"{base}/pipelines", json={"name": "e2e"})
        assert status == 409 and dup["upstream"]["body"]["statusCode"] == 409
        status, run = await call(session, "POST", f"{base}/pipelines/{p['id']}/runs")
        assert status == 201 and run["status"] == "queued"
        run_url = f"{base}/pipelines/{p['id']}/runs/{run['id']}"

        async def status_is(*wanted: str) -> Any:
            _, r = await call(session, "GET", run_url)
            return r if r["status"] in wanted else None

        await wait_until(lambda: status_is("waiting_approval"), what="the gate")
        status, err = await call(session, "POST", f"{run_url}/cancel")
        assert status == 400 and err["upstream"]["body"]["statusCode"] == 400
        status, approved = await call(session, "POST", f"{run_url}/approve")
        assert status == 200 and approved["status"] == "running"
        done = await wait_until(lambda: status_is("succeeded", "failed"), what="the run to end")
        assert done["status"] == "succeeded" and "[#e2e] shipped" in done["logs"]
        status, runs = await call(session, "GET", f"{base}/pipelines/{p['id']}/runs")
        assert status == 200 and [r["id"] for r in runs] == [run["id"]]
        status, listed = await call(session, "GET", f"{base}/pipelines", params={"limit": "5"})
        assert status == 200 and listed["total"] == 1 and listed["limit"] == 5
        status, patched = await call(session, "PATCH", f"{base}/pipelines/{p['id']}", json={"description": "now"})
        assert status == 200 and patched["description"] == "now" and patched["name"] == "e2e"
        assert (await call(session, "DELETE", f"{base}/pipelines/{p['id']}"))[0] == 204
        assert (await call(session, "GET", f"{base}/pipelines/{p['id']}"))[0] == 404


async def test_pipeline_runs_v0_capability_drives_the_seed_002_api(session: aiohttp.ClientSession) -> None:
    async with naftiko_run("pipeline-runs-v0.yaml") as base:
        status, created = await call(session, "POST", f"{base}/pipelines/release/runs",
                                     json={"inputs": {"env_id": "qa"}})
        assert status == 200 and created["code"] == 0, created
        run = created["content"]
        assert run["status"] == "queued" and run["inputs"]["env_id"] == "qa"
        run_url = f"{base}/pipelines/release/runs/{run['id']}"

        async def status_is(*wanted: str) -> Any:
            _, r = await call(session, "GET", run_url)
            return r["content"] if r["content"]["status"] in wanted else None

        await wait_until(lambda: status_is("waiting"), what="the approval gate")
        status, err = await call(session, "PUT", run_url, json={"status": "success"})
        assert status == 400 and err["upstream"]["body"]["code"] == 400
        status, released = await call(session, "PUT", run_url, json={"status": "running"})
        assert status == 200 and released["content"]["status"] in ("running", "complete", "success")
        await wait_until(lambda: status_is("success"), what="the release to succeed")
        status, listed = await call(session, "GET", f"{base}/runs",
                                    params={"pipeline_name": "Release", "ordering": "-run_number"})
        assert status == 200 and [r["id"] for r in listed["content"]["results"]] == [run["id"]]
        status, waiting = await call(session, "GET", f"{base}/runs", params={"status": "waiting"})
        assert status == 200 and waiting["content"]["count"] == 0
        status, deleted = await call(session, "DELETE", run_url)
        assert status == 200 and deleted["content"]["id"] == run["id"]
        assert (await call(session, "GET", run_url))[0] == 404


async def test_inngest_api_capability_drives_the_15_operations(session: aiohttp.ClientSession) -> None:
    """capabilities/inngest-api.yaml with no signing key: naftiko run serves it from the engine."""
    async with naftiko_run("inngest-api.yaml") as base:
        status, hook = await call(session, "POST", f"{base}/webhooks",
                                  json={"data": {"name": "e2e", "transform": "function transform(e) { return e }"}})
        assert status == 200 and hook["data"]["url"].split("/e/")[1], hook
        hook_id = hook["data"]["id"]
        async with session.post(hook["data"]["url"], json={"name": "demo/ci.requested", "data": {"ref": "e2e"}}) as r:
            assert r.status == 200  # the webhook's url is the engine's: a request to it is an event
        status, events = await call(session, "GET", f"{base}/events", params={"name": "demo/ci.requested"})
        assert status == 200 and events["data"][0]["data"] == {"ref": "e2e"} and events["metadata"]["fetchedAt"]
        event_id = events["data"][0]["internal_id"]
        assert (await call(session, "GET", f"{base}/events/{event_id}"))[1]["data"]["source"] == "webhook"
        runs = (await call(session, "GET", f"{base}/events/{event_id}/runs"))[1]["data"]
        run_id = runs[0]["run_id"]
        assert (await call(session, "GET", f"{base}/runs/{run_id}"))[1]["data"]["run_id"] == run_id
        assert (await call(session, "GET", f"{base}/runs/{run_id}/jobs"))[0] == 200
        assert (await call(session, "DELETE", f"{base}/runs/{run_id}"))[0] in (200, 204)
        status, made = await call(session, "POST", f"{base}/cancellations", json={
            "app_id": "demo-app", "function_id": "ci", "started_before": "2999-01-01T00:00:00Z"})
        assert status == 200 and made["data"]["function_id"] == "ci", made
        assert [c["id"] for c in (await call(session, "GET", f"{base}/cancellations"))[1]["data"]] == [made["data"]["id"]]
        assert (await call(session, "DELETE", f"{base}/cancellations/{made['data']['id']}"))[0] == 204  # the engine answers 200 with no body; the adapter relays an empty 2xx as 204
        status, refused = await call(session, "POST", f"{base}/signals", json={"signal": "nobody", "data": {}})
        assert status == 200 and "error" in refused
        assert (await call(session, "GET", f"{base}/webhooks"))[1]["data"][0]["id"] == hook_id
        assert (await call(session, "PUT", f"{base}/webhooks/{hook_id}", json={"name": "e2e-2"}))[1]["data"]["name"] == "e2e-2"
        assert (await call(session, "GET", f"{base}/webhooks/{hook_id}"))[1]["data"]["name"] == "e2e-2"
        assert (await call(session, "DELETE", f"{base}/webhooks/{hook_id}"))[1] == {"data": {"id": hook_id}}
