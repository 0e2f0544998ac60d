"""What running a pipeline really does: DAG concurrency, approvals, cancel, timeouts, scripts."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import aiohttp

from naftiko_runtime.engine import start_engine

from .helpers import Api, wait_until, write_pipeline

DAG = """
name: Dag
on: {pipeline_call: {inputs: {dir: {type: string, required: true}}}}
jobs:
  left:
    steps:
      - uses: script
        timeout-minutes: 0.2
        with:
          # Barrier: each side waits for the other's file, so this only passes if both run at once.
          run: 'touch "$D/left"; while [ ! -f "$D/right" ]; do sleep 0.02; done; echo "side=left" >> "$NAFTIKO_OUTPUT"'
          env: {D: "${{ inputs.dir }}"}
        id: s
    outputs: {side: "${{ steps.s.outputs.side }}"}
  right:
    steps:
      - uses: script
        timeout-minutes: 0.2
        with:
          run: 'touch "$D/right"; while [ ! -f "$D/left" ]; do sleep 0.02; done'
          env: {D: "${{ inputs.dir }}"}
  join:
    needs: [left, right]
    steps:
      - uses: log
        with: {message: "left said ${{ needs.left.outputs.side }}"}
  after-fail:
    needs: [broken]
    steps:
      - uses: log
  broken:
    needs: [join]
    steps:
      - uses: fail
        with: {message: boom}
      - uses: log
        if: failure()
        with: {message: "cleanup after failure"}
"""

TIMEOUTS = """
name: Timeouts
on: {pipeline_call: {inputs: {which: {type: string, required: true}}}}
timeout-minutes: 0.02
jobs:
  main:
    steps:
      - uses: sleep
        if: ${{ inputs.which == 'run' }}
        with: {seconds: 30}
      - uses: sleep
        if: ${{ inputs.which == 'step' }}
        timeout-minutes: 0.005
        with: {seconds: 30}
      - uses: log
        if: always()
        with: {message: "still here"}
"""


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _engine(tmp_path: Path, **pipelines: str):  # type: ignore[no-untyped-def]
    root = tmp_path / "p"
    for pid, text in pipelines.items():
        write_pipeline(root, pid, text)
    return await start_engine(port=0, pipelines_dir=root)


async def test_dag_runs_independent_jobs_concurrently(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    handle = await _engine(tmp_path, dag=DAG)
    try:
        api = Api(session, handle.url, "t-org", "t-app")
        barrier = tmp_path / "barrier"
        barrier.mkdir()
        run = await api.create("dag", {"dir": str(barrier)})
        done = await api.wait_status("dag", run["id"])
        assert done["status"] == "failed" and "broken" in done["status_message"]
        left, right, join = [await api.job("dag", run["id"], j) for j in ("left", "right", "join")]
        assert left["status"] == right["status"] == join["status"] == "succeeded"
        # join started only after both of its needs completed
        assert _ts(join["steps"][0]["created_at"]) >= max(_ts(left["completed_at"]), _ts(right["completed_at"]))
        logs = await api.logs("dag", run["id"], "join", 0)
        assert logs[0]["message"] == "left said left"
        broken = await api.job("dag", run["id"], "broken")
        assert [(s["index"], s["status"]) for s in broken["steps"]] == [(0, "failed"), (1, "succeeded")]
        skipped = await api.job("dag", run["id"], "after-fail")
        assert skipped["status"] == "skipped" and "steps" in skipped and skipped["steps"] == []
    finally:
        await handle.close()


async def test_approval_approved_then_deploys(api: Api, session: aiohttp.ClientSession) -> None:
    run = await api.create("release", {"env_id": "staging", "set_id": "set-1"})
    approval = await api.waiting_approval("release", run["id"])
    assert approval["status"] == "waiting" and approval["env_id"] == "staging" and approval["job_id"] == "release"
    job = await api.wait_job("release", run["id"], "release", "waiting")
    assert job["waiting_for"] == f"pipeline.approval({approval['id']})"
    assert (await api.run("release", run["id"]))["waiting_for"] == {"release": job["waiting_for"]}
    url = f"{api.r('release', run['id'])}/jobs/release/approvals/{approval['id']}"
    async with session.get(url) as resp:
        assert resp.status == 200 and (await resp.json())["message"] == "Release to staging?"
    async with session.post(url + "/approve", headers={"X-Naftiko-User": "alice"}) as resp:
        assert resp.status == 200
        decided = await resp.json()
    assert decided["status"] == "approved" and decided["approved_by"] == "alice" and decided["approved_at"]
    async with session.post(url + "/deny") as resp:
        assert resp.status == 400  # no longer waiting
    done = await api.wait_status("release", run["id"])
    assert done["status"] == "succeeded" and "staging" in done["env_ids"]
    job = await api.job("release", run["id"], "release")
    deploy = job["steps"][1]
    assert deploy["related_entities"]["env_id"] == "staging" and deploy["related_entities"]["set_id"] == "set-1"
    last = await api.logs("release", run["id"], "release", 3)
    assert last[0]["message"] == f"deployment {deploy['related_entities']['deployment_id']} is live in staging"


async def test_approval_denied_fails_the_run(api: Api, session: aiohttp.ClientSession) -> None:
    run = await api.create("release", {"env_id": "qa"})
    approval = await api.waiting_approval("release", run["id"])
    url = f"{api.r('release', run['id'])}/jobs/release/approvals/{approval['id']}"
    async with session.post(url + "/deny") as resp:
        assert resp.status == 200 and (await resp.json())["status"] == "denied"
    done = await api.wait_status("release", run["id"])
    assert done["status"] == "failed" and "denied" in done["status_message"]
    job = await api.job("release", run["id"], "release")
    assert [s["status"] for s in job["steps"]] == ["failed"]
    async with session.post(url + "/approve") as resp:
        assert resp.status == 400
    async with session.get(f"{api.r('release', run['id'])}/jobs/release/approvals/nope") as resp:
        assert resp.status == 404


async def test_cancel_kills_a_running_script(tapi: Api, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    run = await tapi.create("slow", {"pidfile": str(pidfile)})

    async def started() -> int | None:
        text = pidfile.read_text().strip() if pidfile.exists() else ""
        return int(text) if text else None

    pid = await wait_until(started, what="the script to start")
    os.kill(pid, 0)  # alive
    await tapi.wait_job("slow", run["id"], "work", "executing")
    async with tapi.s.post(tapi.r("slow", run["id"]) + "/cancel") as resp:
        assert resp.status == 204
    done = await tapi.wait_status("slow", run["id"], timeout=10)
    assert done["status"] == "cancelled" and done["cancellation_requested_at"]

    async def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    await wait_until(gone, timeout=5, what="the script process to be gone")
    job = await tapi.job("slow", run["id"], "work")
    assert job["status"] == "cancelled" and job["steps"][0]["status"] == "cancelled"
    lines = await tapi.logs("slow", run["id"], "work", 0)
    assert "started" in [x["message"] for x in lines]


async def test_run_timeout_cancels_and_step_timeout_fails(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    handle = await _engine(tmp_path, timeouts=TIMEOUTS)
    try:
        api = Api(session, handle.url, "t-org", "t-app")
        run = await api.create("timeouts", {"which": "run"})
        done = await api.wait_status("timeouts", run["id"], timeout=10)
        assert done["status"] == "cancelled" and "timed out" in done["status_message"]
        assert done["timeout_seconds"] == 2
        step_run = await api.create("timeouts", {"which": "step"})
        done = await api.wait_status("timeouts", step_run["id"], timeout=10)
        assert done["status"] == "failed"
        job = await api.job("timeouts", step_run["id"], "main")
        assert [(s["index"], s["status"]) for s in job["steps"]] == [(1, "cancelled"), (2, "succeeded")]
        assert "timed out" in job["steps"][0]["status_message"]
    finally:
        await handle.close()


async def test_scripts_only_from_files_unless_allowed(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    text = "name: S\non: {pipeline_call: {}}\njobs: {a: {steps: [{uses: script, with: {run: echo hi}}]}}\n"
    for allow, expected in ((False, "failed"), (True, "succeeded")):
        handle = await start_engine(port=0, pipelines_dir=tmp_path / "none", allow_api_scripts=allow)
        try:
            api = Api(session, handle.url, "x-org", "x-app")
            async with session.post(f"{handle.url}/orgs/x-org/apps/x-app/pipelines", data=text,
                                    headers={"Content-Type": "application/x-yaml"}) as resp:
                assert resp.status == 201
                pid = (await resp.json())["id"]
            run = await api.create(pid)
            done = await api.wait_status(pid, run["id"])
            assert done["status"] == expected
            if not allow:
                job = await api.job(pid, run["id"], "a")
                assert "--allow-api-scripts" in job["steps"][0]["status_message"]
        finally:
            await handle.close()


async def test_deployment_request_uses_criteria(api: Api, session: aiohttp.ClientSession) -> None:
    url = f"{api.base}/orgs/demo-org/apps/demo-app/pipeline-runs"
    body = {"trigger": "deployment_request", "env_id": "staging", "delta_id": "d-1", "comment": "ship it"}
    async with session.post(url + "?dry_run=true", json=body) as resp:
        assert resp.status == 204
    async with session.post(url, json=body) as resp:
        assert resp.status == 201
        run = await resp.json()
    assert run["pipeline_id"] == "release" and run["trigger"] == "deployment_request"
    assert run["inputs"] == {"env_id": "staging", "comment": "ship it", "delta_id": "d-1"}
    for bad, status in (({**body, "set_id": "s"}, 400), ({"trigger": "artefact"}, 400),
                        ({"trigger": "deployment_request", "delta_id": "x"}, 400),
                        ({**{k: v for k, v in body.items() if k != "delta_id"}, "deployment_id": "x",
                          "value_set_version_id": "v"}, 400)):
        async with session.post(url, json=bad) as resp:
            assert resp.status == status, bad
    async with session.post(f"{api.base}/orgs/demo-org/apps/other-app/pipeline-runs", json=body) as resp:
        assert resp.status == 404
    await api.waiting_approval("release", run["id"])
    async with session.post(api.r("release", run["id"]) + "/cancel") as resp:
        assert resp.status == 204
    await api.wait_status("release", run["id"])


async def test_event_bus_sees_a_run_from_creation_to_the_end(engine, api: Api) -> None:  # type: ignore[no-untyped-def]
    queue = engine.engine.bus.subscribe()
    run = await api.create("broken")
    await api.wait_status("broken", run["id"])
    seen = []
    while not queue.empty():
        event = queue.get_nowait()
        if event.data.get("run_id") == run["id"]:
            seen.append((event.type, event.data.get("state") or event.data.get("message")))
    engine.engine.bus.unsubscribe(queue)
    assert seen[0] == ("run.created", None)
    run_states = [s for t, s in seen if t == "run.updated"]
    assert run_states == ["processing", "running", "failed"]
    assert ("step.log", "step failed on purpose") in seen
