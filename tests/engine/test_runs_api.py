"""Run endpoints of the Humanitec API: codes, shapes, ETags, idempotency, legal operations."""

from __future__ import annotations

import aiohttp

from naftiko_runtime.engine import EngineHandle

from .helpers import Api, wait_until

RUN_FIELDS = {"id", "etag", "org_id", "app_id", "pipeline_id", "pipeline_version", "env_ids", "status",
              "status_message", "created_at", "created_by", "timeout_seconds", "trigger", "inputs", "run_as",
              "waiting_for"}


async def test_ci_run_succeeds_with_jobs_steps_and_logs(api: Api) -> None:
    run = await api.create("ci", {"ref": "feature-x"})
    assert set(run) >= RUN_FIELDS and run["status"] == "queued" and run["inputs"]["run_tests"] is True
    done = await api.wait_status("ci", run["id"])
    assert done["status"] == "succeeded" and done["completed_at"] and done["executing_at"]
    async with api.s.get(f"{api.r('ci', run['id'])}/jobs") as resp:
        jobs = await resp.json()
    assert [j["id"] for j in jobs] == ["lint", "test", "build"]
    assert all(j["status"] == "succeeded" and "steps" not in j for j in jobs)
    build = await api.job("ci", run["id"], "build")
    assert [s["index"] for s in build["steps"]] == [0, 1]
    assert {"index", "name", "uses", "status", "status_message", "created_at", "timeout_seconds",
            "related_entities"} <= set(build["steps"][0])
    report = [line["message"] for line in await api.logs("ci", run["id"], "build", 1)]
    assert report == ["built demo-app:feature-x"]
    lines = await api.logs("ci", run["id"], "test", 0)
    assert [x["message"] for x in lines if x["level"] == "INFO"] == ["test 1 passed", "test 2 passed",
                                                                      "test 3 passed"]


async def test_broken_run_fails_and_skips_the_rest(api: Api) -> None:
    run = await api.create("broken")
    done = await api.wait_status("broken", run["id"])
    assert done["status"] == "failed" and "step failed on purpose" in done["status_message"]
    job = await api.job("broken", run["id"], "build")
    assert [(s["index"], s["status"]) for s in job["steps"]] == [(0, "succeeded"), (1, "failed")]
    async with api.s.get(f"{api.r('broken', run['id'])}/jobs/build/steps/2/logs") as resp:
        assert resp.status == 404


async def test_bad_requests_get_documented_codes(api: Api, session: aiohttp.ClientSession) -> None:
    base = api.p("ci")
    cases = [
        (session.post(f"{base}/runs", json={"inputs": {"ref": 12}}), 400),
        (session.post(f"{base}/runs", json={"inputs": {"nope": 1}}), 400),
        (session.post(f"{base}/runs", json={}), 400),
        (session.post(f"{base}/runs", data="{not json", headers={"Content-Type": "application/json"}), 400),
        (session.post(f"{base}/runs", data=""), 400),
        (session.post(f"{base}/runs", json=[1, 2]), 422),
        (session.post(f"{api.p('nope')}/runs", json={"inputs": {}}), 404),
        (session.get(f"{base}/runs/00000000-0000-0000-0000-000000000000"), 404),
        (session.get(f"{api.base}/orgs/Bad_Org/apps/demo-app/pipelines/ci/runs"), 400),
        (session.get(f"{api.base}/orgs/demo-org/apps/demo-app/pipelines/ci/runs?per_page=500"), 400),
        (session.get(f"{api.base}/orgs/demo-org/pipeline-runs?created_after=yesterday"), 400),
        (session.get(f"{api.base}/orgs/demo-org/nothing-here"), 404),
    ]
    for request, status in cases:
        async with request as resp:
            body = await resp.json()
            assert resp.status == status, (status, body)
            assert body["error"].startswith("API-") and body["message"]


async def test_dry_run_validates_and_stores_nothing(api: Api, session: aiohttp.ClientSession) -> None:
    async with session.post(f"{api.p('ci')}/runs?dry_run=true", json={"inputs": {"ref": "x"}}) as resp:
        assert resp.status == 204 and await resp.read() == b""
    async with session.post(f"{api.p('ci')}/runs?dry_run=true", json={"inputs": {"ref": 1}}) as resp:
        assert resp.status == 400
    async with session.get(f"{api.p('ci')}/runs") as resp:
        assert await resp.json() == []


async def test_lifecycle_codes_cancel_delete_restart(tapi: Api, session: aiohttp.ClientSession) -> None:
    """Every operation from every state it can meet: 204/201 where legal, 409 where not."""
    api = tapi
    # A waiting (executing) run holds the `gated` concurrency group; a second one stays queued.
    first = await api.create("gated")
    await api.waiting_approval("gated", first["id"])
    second = await api.create("gated")
    assert (await api.run("gated", second["id"]))["status"] == "queued"
    # queued: delete 409, restart 409, cancel 204 -> cancelled at once
    async with session.delete(api.r("gated", second["id"])) as resp:
        assert resp.status == 409
    async with session.post(api.r("gated", second["id"]) + "/restart") as resp:
        assert resp.status == 409
    async with session.post(api.r("gated", second["id"]) + "/cancel") as resp:
        assert resp.status == 204
    cancelled = await api.run("gated", second["id"])
    assert cancelled["status"] == "cancelled" and cancelled["cancellation_requested_at"]
    # executing (waiting on approval): delete 409, restart 409, cancel 204 -> cancelled, approval cancelled
    run = await api.run("gated", first["id"])
    assert run["status"] == "executing" and run["waiting_for"]
    async with session.delete(api.r("gated", first["id"])) as resp:
        assert resp.status == 409
    async with session.post(api.r("gated", first["id"]) + "/restart") as resp:
        assert resp.status == 409
    async with session.post(api.r("gated", first["id"]) + "/cancel") as resp:
        assert resp.status == 204
    done = await api.wait_status("gated", first["id"])
    assert done["status"] == "cancelled" and done["waiting_for"] == {}
    async with session.get(f"{api.base}/orgs/t-org/apps/t-app/approvals", params={"run": first["id"]}) as resp:
        assert [a["status"] for a in await resp.json()] == ["cancelled"]
    job = await api.job("gated", first["id"], "main")
    assert job["status"] == "cancelled"
    # cancelled: cancel again 204 (no-op), restart 201, delete 204
    async with session.post(api.r("gated", first["id"]) + "/cancel") as resp:
        assert resp.status == 204
    # succeeded: cancel 409, restart 201 with same trigger + inputs, delete 204 then 404
    quick = await api.create("quick", {"n": 7})
    assert (await api.wait_status("quick", quick["id"]))["status"] == "succeeded"
    async with session.post(api.r("quick", quick["id"]) + "/cancel") as resp:
        assert resp.status == 409
        assert (await resp.json())["error"] == "API-409"
    async with session.post(api.r("quick", quick["id"]) + "/restart") as resp:
        assert resp.status == 201 and resp.headers["Etag"]
        again = await resp.json()
    assert again["id"] != quick["id"] and again["inputs"] == {"n": 7} and again["trigger"] == "pipeline_call"
    assert (await api.wait_status("quick", again["id"]))["status"] == "succeeded"
    for rid in (quick["id"], first["id"], second["id"]):
        async with session.delete(api.r("gated" if rid != quick["id"] else "quick", rid)) as resp:
            assert resp.status == 204
    async with session.get(api.r("quick", quick["id"])) as resp:
        assert resp.status == 404


async def test_failed_run_cancel_is_409_and_restart_copies(api: Api, session: aiohttp.ClientSession) -> None:
    run = await api.create("broken")
    await api.wait_status("broken", run["id"])
    async with session.post(api.r("broken", run["id"]) + "/cancel") as resp:
        assert resp.status == 409
    async with session.post(api.r("broken", run["id"]) + "/restart") as resp:
        assert resp.status == 201


async def test_if_match(api: Api, session: aiohttp.ClientSession) -> None:
    run = await api.create("broken")
    await api.wait_status("broken", run["id"])
    async with session.get(api.r("broken", run["id"])) as resp:
        etag = resp.headers["Etag"]
        assert (await resp.json())["etag"] == etag
    async with session.delete(api.r("broken", run["id"]), headers={"If-Match": '"stale"'}) as resp:
        assert resp.status == 412 and (await resp.json())["error"] == "API-412"
    async with session.post(api.r("broken", run["id"]) + "/cancel", headers={"If-Match": "stale"}) as resp:
        assert resp.status == 412
    async with session.delete(api.r("broken", run["id"]), headers={"If-Match": f'"{etag}"'}) as resp:
        assert resp.status == 204


async def test_idempotency_key(api: Api, session: aiohttp.ClientSession) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    first = await api.create("ci", {"ref": "a"}, headers=headers)
    again = await api.create("ci", {"ref": "a"}, headers=headers)
    assert again["id"] == first["id"]
    async with session.post(f"{api.p('ci')}/runs", json={"inputs": {"ref": "b"}}, headers=headers) as resp:
        assert resp.status == 409
    other = await api.create("ci", {"ref": "a"}, headers={"Idempotency-Key": "other"})
    assert other["id"] != first["id"]
    async with session.get(f"{api.p('ci')}/runs") as resp:
        assert len(await resp.json()) == 2
    for rid in (first["id"], other["id"]):
        await api.wait_status("ci", rid)


async def test_list_filters_and_order(api: Api, session: aiohttp.ClientSession) -> None:
    broken = await api.create("broken")
    await api.wait_status("broken", broken["id"])
    release = await api.create("release", {"env_id": "production"})
    await api.waiting_approval("release", release["id"])
    org = f"{api.base}/orgs/demo-org/pipeline-runs"
    async with session.get(org) as resp:
        assert [r["id"] for r in await resp.json()] == [release["id"], broken["id"]]  # newest first
    async with session.get(org, params=[("status", "failed"), ("status", "succeeded")]) as resp:
        assert [r["id"] for r in await resp.json()] == [broken["id"]]
    async with session.get(org, params={"completed": "false"}) as resp:
        assert [r["id"] for r in await resp.json()] == [release["id"]]
    async with session.get(org, params={"pipeline": "release", "app": "demo-app"}) as resp:
        assert [r["id"] for r in await resp.json()] == [release["id"]]
    async with session.get(org, params={"env": "production"}) as resp:
        assert [r["id"] for r in await resp.json()] == [release["id"]]
    async with session.get(org, params={"created_after": broken["created_at"]}) as resp:
        assert [r["id"] for r in await resp.json()] == [release["id"]]
    async with session.get(org, params={"app": "other-app"}) as resp:
        assert await resp.json() == []
    async with session.post(api.r("release", release["id"]) + "/cancel") as resp:
        assert resp.status == 204
    await api.wait_status("release", release["id"])


async def test_v1_alias_healthz_state_and_reset(engine: EngineHandle, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{engine.url}/healthz") as resp:
        assert resp.status == 200
    async with session.post(f"{engine.url}/v1/orgs/demo-org/apps/demo-app/pipelines/broken/runs",
                            json={"inputs": {}}) as resp:
        assert resp.status == 201
        run = await resp.json()
    async with session.get(f"{engine.url}/orgs/demo-org/apps/demo-app/pipelines/broken/runs/{run['id']}") as resp:
        assert resp.status == 200

    async def state() -> dict:
        async with session.get(f"{engine.url}/_engine/state") as resp:
            return await resp.json()

    await wait_until(lambda: _done(state), what="the run to finish")
    async with session.post(f"{engine.url}/_engine/reset") as resp:
        assert resp.status == 200
        after = await resp.json()
    assert after["runs"]["total"] == 0 and len(after["pipelines"]) == 4 and len(after["criteria"]) == 1


async def _done(state) -> bool:  # type: ignore[no-untyped-def]
    s = await state()
    return s["runs"]["total"] == 1 and not s["runs"]["executing"]


async def test_strict_auth(session: aiohttp.ClientSession) -> None:
    from naftiko_runtime.engine import start_engine

    handle = await start_engine(port=0, strict_auth="s3cret")
    try:
        url = f"{handle.url}/orgs/demo-org/apps/demo-app/pipelines"
        async with session.get(url) as resp:
            assert resp.status == 401 and (await resp.json())["error"] == "API-401"
        async with session.get(url, headers={"Authorization": "Bearer wrong"}) as resp:
            assert resp.status == 401
        async with session.get(url, headers={"Authorization": "Bearer s3cret"}) as resp:
            assert resp.status == 200
        async with session.get(f"{handle.url}/healthz") as resp:
            assert resp.status == 200
    finally:
        await handle.close()
