"""One run, every API: started through one API, seen with the same status through Humanitec,
Inngest (its ULID spelling), seed 001 and seed 002; Inngest events, cancel and errors; strict auth."""

from __future__ import annotations

from typing import Any

import aiohttp

from naftiko_runtime.engine import EngineHandle, start_engine
from naftiko_runtime.engine.ids import run_ulid, uuid_from_ulid

from .helpers import call, wait_until


async def views(session: aiohttp.ClientSession, base: str, pid: str, rid: str) -> dict[str, str]:
    """The run's status as each API reports it."""
    out = {}
    status, h = await call(session, "GET", f"{base}/orgs/local/apps/pipelines/pipelines/{pid}/runs/{rid}")
    assert status == 200, h
    out["humanitec"] = h["status"] + ("+waiting" if h["waiting_for"] else "")
    status, i = await call(session, "GET", f"{base}/v1/runs/{run_ulid(rid)}")
    assert status == 200 and set(i) == {"data", "metadata"}, i
    out["inngest"] = i["data"]["status"]
    status, s1 = await call(session, "GET", f"{base}/api/v1/pipelines/{pid}/runs/{rid}")
    assert status == 200, s1
    out["seed001"] = s1["status"]
    status, s2 = await call(session, "GET", f"{base}/pipelines/v0/pipelines/{pid}/runs/{rid}")
    assert status == 200 and s2["code"] == 0, s2
    out["seed002"] = s2["content"]["status"]
    return out


async def settle(session: aiohttp.ClientSession, base: str, pid: str, rid: str, expected: dict[str, str]) -> None:
    """Poll until all four APIs report ``expected`` (they are read one after another, so a
    transition can fall between two reads; a lasting disagreement times out)."""

    last: dict[str, str] = {}

    async def agree() -> bool:
        last.update(await views(session, base, pid, rid))
        return last == expected

    try:
        await wait_until(agree, what=f"every API to report {expected}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last views {last}") from None


async def test_one_run_consistent_through_every_api(engine: EngineHandle, session: aiohttp.ClientSession) -> None:
    base = engine.url
    status, p = await call(session, "POST", f"{base}/api/v1/pipelines", json={"name": "everywhere", "stages": [
        {"name": "Gate", "type": "approval", "config": {"message": "ok?"}},
        {"name": "Ship", "type": "deploy", "config": {"environmentId": "staging"}}]})
    assert status == 201
    # started through seed 002
    status, created = await call(session, "POST", f"{base}/pipelines/v0/pipelines/{p['id']}/runs", json={})
    assert status == 200 and created["code"] == 0 and created["content"]["run_number"] == 1
    rid = created["content"]["id"]

    await settle(session, base, p["id"], rid, {
        "humanitec": "executing+waiting", "inngest": "Running", "seed001": "waiting_approval", "seed002": "waiting"})
    # released through seed 002 (waiting -> running approves the gate)
    status, put = await call(session, "PUT", f"{base}/pipelines/v0/pipelines/{p['id']}/runs/{rid}",
                             json={"status": "running"})
    assert status == 200 and put["content"]["status"] in ("running", "complete", "success")

    await settle(session, base, p["id"], rid, {
        "humanitec": "succeeded", "inngest": "Completed", "seed001": "succeeded", "seed002": "success"})

    # started through Humanitec, cancelled through Inngest, seen cancelled everywhere
    status, h = await call(session, "POST", f"{base}/orgs/local/apps/pipelines/pipelines/{p['id']}/runs",
                           json={"inputs": {}})
    assert status == 201
    await wait_until(lambda: _status_is(session, base, p["id"], h["id"], "waiting"), what="the second gate")
    ulid = run_ulid(h["id"])
    assert len(ulid) == 26 and uuid_from_ulid(ulid) == h["id"]
    status, body = await call(session, "DELETE", f"{base}/v1/runs/{ulid}")
    assert status == 200 and body is None

    await settle(session, base, p["id"], h["id"], {
        "humanitec": "cancelled", "inngest": "Cancelled", "seed001": "cancelled", "seed002": "cancelled"})
    # cancelling an ended run through Inngest: nothing to cancel, a documented 204, both forms
    assert (await call(session, "POST", f"{base}/v1/runs/{ulid}/cancel"))[0] == 204
    assert (await call(session, "DELETE", f"{base}/v1/runs/{ulid}"))[0] == 204
    status, listed = await call(session, "GET", f"{base}/v0/runs", params={"pipeline_name": "everywhere"})
    assert [r["run_number"] for r in listed["content"]["results"]] == [2, 1]


async def _status_is(session: aiohttp.ClientSession, base: str, pid: str, rid: str, want: str) -> bool:
    status, s2 = await call(session, "GET", f"{base}/pipelines/v0/pipelines/{pid}/runs/{rid}")
    return status == 200 and s2["content"]["status"] == want


async def test_inngest_events_runs_jobs_and_errors(engine: EngineHandle, session: aiohttp.ClientSession) -> None:
    base = engine.url
    status, sent = await call(session, "POST", f"{base}/e/any-key",
                              json={"name": "demo/app.push", "data": {"ref": "feature-x", "author": "ada"}})
    assert status == 200 and sent["status"] == 200 and len(sent["ids"]) == 1 and len(sent["ids"][0]) == 26
    event_id = sent["ids"][0]
    status, runs = await call(session, "GET", f"{base}/v1/events/{event_id}/runs")
    assert status == 200 and len(runs["data"]) == 1 and "fetchedAt" in runs["metadata"]
    run = runs["data"][0]
    assert run["event_id"] == event_id and len(run["run_id"]) == 26 and run["function_id"]

    async def completed() -> Any:
        _, r = await call(session, "GET", f"{base}/v1/runs/{run['run_id']}")
        return r["data"] if r["data"]["status"] in ("Completed", "Failed") else None

    done = await wait_until(completed, what="the event run")
    assert done["status"] == "Completed" and done["ended_at"] and done["run_started_at"]
    status, jobs = await call(session, "GET", f"{base}/v1/runs/{run['run_id']}/jobs")
    assert status == 200 and [j["position"] for j in jobs["data"]] == [0, 1]
    assert all(set(j) == {"at", "position", "attempt"} for j in jobs["data"])  # the documented Job, no more
    # the run's log, through Humanitec: the event data were its inputs
    h = done["naftiko"]
    logs = (await call(session, "GET", f"{base}/orgs/{h['org_id']}/apps/{h['app_id']}/pipelines/on-push/runs/"
                                       f"{h['id']}/jobs/check/steps/0/logs"))[1]
    assert logs[0]["message"] == "push to feature-x by ada"
    status, ev = await call(session, "GET", f"{base}/v1/events/{event_id}")
    assert status == 200 and ev["data"]["name"] == "demo/app.push"
    # a duplicate (same client id) starts nothing new; an event no pipeline listens to starts nothing
    first = (await call(session, "POST", f"{base}/e/k", json={"id": "dedupe-1", "name": "demo/app.push"}))[1]
    again = (await call(session, "POST", f"{base}/e/k", json=[{"id": "dedupe-1", "name": "demo/app.push"},
                                                              {"name": "nobody/listens"}]))[1]
    assert again["ids"][0] == first["ids"][0]
    assert (await call(session, "GET", f"{base}/v1/events/{again['ids'][1]}/runs"))[1]["data"] == []
    # errors: Inngest's shape
    status, err = await call(session, "GET", f"{base}/v1/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert status == 404 and err["status"] == 404 and "error" in err and "data" in err
    status, err = await call(session, "GET", f"{base}/v1/runs/not-a-ulid")
    assert status == 404 and err["status"] == 404  # GetRun documents 200 and 404 only
    assert (await call(session, "POST", f"{base}/e/k", json={"data": {}}))[0] == 400


async def test_strict_auth_answers_each_apis_own_401(session: aiohttp.ClientSession) -> None:
    handle = await start_engine(port=0, strict_auth="s3cret")
    try:
        base = handle.url
        cases = {
            f"{base}/orgs/demo-org/apps/demo-app/webhooks": lambda b: b["error"] == "API-401",
            f"{base}/v1/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV": lambda b: b["status"] == 401 and b["error"],
            f"{base}/api/v1/pipelines": lambda b: b["statusCode"] == 401,
            f"{base}/v0/runs": lambda b: b["code"] == 401 and "content" in b,
        }
        for url, shaped in cases.items():
            status, body = await call(session, "GET", url)
            assert status == 401 and shaped(body), (url, body)
            assert (await call(session, "GET", url, headers={"Authorization": "Bearer nope"}))[0] == 401
        ok = {"Authorization": "Bearer s3cret"}
        assert (await call(session, "GET", f"{base}/api/v1/pipelines", headers=ok))[0] == 200
        assert (await call(session, "GET", f"{base}/v0/runs", headers={"X-Auth-Token": "s3cret"}))[0] == 200
        assert (await call(session, "GET", f"{base}/v1/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV",
                           headers={"Authorization": "Bearer signkey-prod-s3cret"}))[0] == 404
        assert (await call(session, "POST", f"{base}/e/s3cret", json={"name": "x"}))[0] == 200
        assert (await call(session, "GET", f"{base}/_engine/deliveries"))[0] == 200
    finally:
        await handle.close()
