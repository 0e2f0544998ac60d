"""The generic Pipelines API (seed 001): pipelines with stages, trigger, runs, approve/reject/
cancel with the seed's codes, the API-scripts rule, and live events over the WebSocket."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from naftiko_runtime.engine import EngineHandle, start_engine

from .helpers import call, wait_until

BASE = "/api/v1/pipelines"


def jwt(**claims: Any) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{part}.sig"


@pytest.fixture
async def scripted() -> AsyncIterator[EngineHandle]:
    handle = await start_engine(port=0, db=":memory:", allow_api_scripts=True)
    try:
        yield handle
    finally:
        await handle.close()


async def create(session: aiohttp.ClientSession, base: str, name: str, stages: list[dict[str, Any]]) -> dict[str, Any]:
    status, body = await call(session, "POST", f"{base}{BASE}", json={"name": name, "description": "d", "stages": stages})
    assert status == 201, body
    return body


async def wait_run(session: aiohttp.ClientSession, base: str, pid: str, rid: str, *statuses: str) -> dict[str, Any]:
    async def check() -> Any:
        status, run = await call(session, "GET", f"{base}{BASE}/{pid}/runs/{rid}")
        assert status == 200, run
        return run if run["status"] in statuses else None

    return await wait_until(check, what=f"run {rid} to be one of {statuses}")


GATED = [
    {"id": "gate", "name": "Approve", "type": "approval", "order": 1, "config": {"message": "ship it?"}},
    {"id": "ship", "name": "Deploy", "type": "deploy", "order": 2,
     "config": {"componentId": "c-1", "environmentId": "production"}},
    {"id": "tell", "name": "Notify", "type": "notify", "order": 3, "config": {"channel": "#rel", "message": "done"}},
]


async def test_pipeline_crud_and_validation(engine: EngineHandle, session: aiohttp.ClientSession) -> None:
    base = engine.url
    p = await create(session, base, "deploy-to-production", GATED[::-1])  # given out of order
    assert [s["id"] for s in p["stages"]] == ["gate", "ship", "tell"]  # ordered by `order`
    assert set(p) == {"id", "name", "description", "stages", "organizationId", "createdBy", "createdAt", "updatedAt"}
    status, dup = await call(session, "POST", f"{base}{BASE}", json={"name": "deploy-to-production"})
    assert status == 409 and dup["statusCode"] == 409 and dup["error"] == "Conflict"
    for bad in ({"name": "x"}, {"name": "ok-name", "stages": [{"type": "teleport"}]},
                {"name": "ok-name", "stages": [{"type": "script", "config": {}}]}, {"stages": []}):
        status, err = await call(session, "POST", f"{base}{BASE}", json=bad)
        assert status == 400 and err["statusCode"] == 400, (bad, err)
    status, got = await call(session, "GET", f"{base}{BASE}/{p['id']}")
    assert status == 200 and got == p
    status, missing = await call(session, "GET", f"{base}{BASE}/00000000-0000-0000-0000-000000000000")
    assert status == 404 and missing == {"statusCode": 404, "message": missing["message"], "error": "Not Found"}
    status, upd = await call(session, "PATCH", f"{base}{BASE}/{p['id']}", json={"description": "new", "stages": GATED[:1]})
    assert status == 200 and upd["description"] == "new" and len(upd["stages"]) == 1 and upd["name"] == p["name"]
    await create(session, base, "second", [])
    status, listed = await call(session, "GET", f"{base}{BASE}", params={"limit": "1", "page": "2"})
    assert status == 200 and listed["total"] == 2 and [x["name"] for x in listed["data"]] == ["second"]
    assert (await call(session, "PATCH", f"{base}{BASE}/{p['id']}", json={"name": "second"}))[0] == 409
    # the same pipeline, seen by the Humanitec API: one job, one step per stage
    status, hp = await call(session, "GET", f"{base}/orgs/local/apps/pipelines/pipelines/{p['id']}")
    assert status == 200 and hp["trigger_types"] == ["pipeline_call"]
    assert (await call(session, "DELETE", f"{base}{BASE}/{p['id']}"))[0] == 204
    assert (await call(session, "GET", f"{base}{BASE}/{p['id']}"))[0] == 404


async def test_approve_reject_cancel_rules(engine: EngineHandle, session: aiohttp.ClientSession) -> None:
    base = engine.url
    p = await create(session, base, "gated", GATED)
    runs = f"{base}{BASE}/{p['id']}/runs"

    status, run = await call(session, "POST", f"{base}{BASE}/{p['id']}/trigger")
    assert status == 201 and run["status"] == "queued" and run["pipelineId"] == p["id"]
    assert [r["status"] for r in run["stageResults"]] == ["pending"] * 3
    # approve/reject before the gate is reached, or cancel while waiting: 400
    await wait_run(session, base, p["id"], run["id"], "waiting_approval")
    status, err = await call(session, "POST", f"{runs}/{run['id']}/cancel")
    assert status == 400 and err["statusCode"] == 400
    status, err = await call(session, "POST", f"{runs}/{run['id']}/approve",
                             headers={"Authorization": f"Bearer {jwt(sub='u1', role='viewer')}"})
    assert status == 403 and err["error"] == "Forbidden"
    status, approved = await call(session, "POST", f"{runs}/{run['id']}/approve",
                                  headers={"Authorization": f"Bearer {jwt(sub='boss', roles=['admin'])}"})
    assert status == 200 and approved["status"] == "running"
    done = await wait_run(session, base, p["id"], run["id"], "succeeded", "failed")
    assert done["status"] == "succeeded" and done["durationMs"] >= 0 and done["finishedAt"]
    assert [r["status"] for r in done["stageResults"]] == ["succeeded"] * 3
    assert "[#rel] done" in done["logs"] and "approved by boss" in done["logs"]
    assert (await call(session, "POST", f"{runs}/{run['id']}/approve"))[0] == 400
    status, err = await call(session, "POST", f"{runs}/{run['id']}/cancel")
    assert status == 400 and "terminal" in err["message"]

    status, second = await call(session, "POST", f"{base}{BASE}/{p['id']}/trigger")
    await wait_run(session, base, p["id"], second["id"], "waiting_approval")
    status, rejected = await call(session, "POST", f"{runs}/{second['id']}/reject")
    assert status == 200 and rejected["status"] == "failed"
    assert [r["status"] for r in rejected["stageResults"]] == ["failed", "skipped", "skipped"]
    assert (await call(session, "POST", f"{runs}/{second['id']}/reject"))[0] == 400

    # runs: newest first; a run of another pipeline is 404 here
    status, listed = await call(session, "GET", runs)
    assert status == 200 and [r["id"] for r in listed] == [second["id"], run["id"]]
    other = await create(session, base, "other", [])
    assert (await call(session, "GET", f"{base}{BASE}/{other['id']}/runs/{run['id']}"))[0] == 404


async def test_scripts_need_allow_api_scripts_and_cancel_stops_them(
        engine: EngineHandle, scripted: EngineHandle, session: aiohttp.ClientSession) -> None:
    stages = [{"name": "Long", "type": "script", "config": {"command": "echo begin; sleep 30"}}]
    p = await create(session, engine.url, "script", stages)
    status, run = await call(session, "POST", f"{engine.url}{BASE}/{p['id']}/trigger")
    done = await wait_run(session, engine.url, p["id"], run["id"], "failed")
    assert "--allow-api-scripts" in json.dumps(done)

    p = await create(session, scripted.url, "script", stages)
    status, run = await call(session, "POST", f"{scripted.url}{BASE}/{p['id']}/trigger")

    async def began() -> Any:
        r = await wait_run(session, scripted.url, p["id"], run["id"], "running", "failed", "succeeded")
        return r if "begin" in r["logs"] else None

    await wait_until(began, what="the script to start")
    status, cancelled = await call(session, "POST", f"{scripted.url}{BASE}/{p['id']}/runs/{run['id']}/cancel")
    assert status == 200 and cancelled["status"] == "cancelled"
    assert cancelled["stageResults"][0]["status"] == "cancelled"


async def test_websocket_streams_logs_and_status_in_order(scripted: EngineHandle,
                                                        session: aiohttp.ClientSession) -> None:
    base = scripted.url
    p = await create(session, base, "streamed", [
        {"id": "build", "name": "Build", "type": "script", "order": 1,
         "config": {"command": "echo one; echo two; echo three"}},
        {"id": "gate", "name": "Gate", "type": "approval", "order": 2, "config": {"message": "go?"}},
        {"id": "tell", "name": "Tell", "type": "notify", "order": 3, "config": {"channel": "#c", "message": "shipped"}},
    ])
    async with session.ws_connect(f"{base}/events", params={"pipelineId": p["id"]}) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["event"] == "subscribed"
        status, run = await call(session, "POST", f"{base}{BASE}/{p['id']}/trigger")
        assert status == 201
        seen: list[dict[str, Any]] = []

        async def until(pred: Any) -> None:
            while not pred():
                seen.append(await ws.receive_json(timeout=10))

        await until(lambda: seen and seen[-1]["event"] == "pipeline.run.updated"
                    and seen[-1]["data"]["status"] == "waiting_approval")
        status, _ = await call(session, "POST", f"{base}{BASE}/{p['id']}/runs/{run['id']}/approve")
        assert status == 200
        await until(lambda: seen[-1]["event"] == "pipeline.run.updated"
                    and seen[-1]["data"]["status"] in ("succeeded", "failed"))

    statuses = [m["data"]["status"] for m in seen if m["event"] == "pipeline.run.updated"]
    assert statuses == ["queued", "running", "waiting_approval", "running", "succeeded"]
    logs = [(m["data"]["stage"], m["data"]["message"]) for m in seen if m["event"] == "pipeline.log"]
    build = [msg for stage, msg in logs if stage == "build" and not msg.startswith("$")]
    assert build == ["one", "two", "three"]
    assert [stage for stage, _ in logs] == sorted((s for s, _ in logs), key=["build", "gate", "tell"].index)
    assert ("tell", "[#c] shipped") in logs
    # every log line of a stage arrives between the status that started it and the final one
    first_log = next(i for i, m in enumerate(seen) if m["event"] == "pipeline.log")
    running_at = next(i for i, m in enumerate(seen) if m["event"] == "pipeline.run.updated"
                      and m["data"]["status"] == "running")
    assert running_at < first_log
    final = seen[-1]["data"]
    assert final["id"] == run["id"] and set(final) >= {"logs", "stageResults", "durationMs"}
    assert all(m["data"].get("runId", m["data"].get("id")) == run["id"] for m in seen)
