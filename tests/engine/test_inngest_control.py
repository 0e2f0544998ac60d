"""Inngest signals and cancellations act on the engine's one run model."""

from __future__ import annotations

from typing import Any

import aiohttp

from naftiko_runtime.engine import EngineHandle
from naftiko_runtime.engine.ids import run_ulid

from .helpers import call, wait_until

APP = "/orgs/demo-org/apps/demo-app"


async def _status(session: aiohttp.ClientSession, base: str, pipeline: str, run_id: str) -> str:
    return (await call(session, "GET", f"{base}{APP}/pipelines/{pipeline}/runs/{run_id}"))[1]["status"]


async def test_a_cancellation_covers_runs_created_while_it_exists(engine: EngineHandle,
                                                                  session: aiohttp.ClientSession) -> None:
    base = engine.url
    status, made = await call(session, "POST", f"{base}/v1/cancellations", json={
        "app_id": "demo-app", "function_id": "release", "started_before": "2999-01-01T00:00:00Z"})
    assert status == 200 and made["data"]["function_id"] == "release"
    _, later = await call(session, "POST", f"{base}{APP}/pipelines/release/runs", json={"inputs": {"env_id": "x1"}})

    async def cancelled(run_id: str) -> Any:
        return await _status(session, base, "release", run_id) == "cancelled"

    await wait_until(lambda: cancelled(later["id"]), what="the run created under the cancellation")
    assert (await call(session, "DELETE", f"{base}/v1/cancellations/{made['data']['id']}"))[0] == 200
    _, free = await call(session, "POST", f"{base}{APP}/pipelines/release/runs", json={"inputs": {"env_id": "x2"}})

    async def gate() -> Any:
        return (await call(session, "GET", f"{base}{APP}/approvals", params={"run": free["id"], "status": "waiting"}))[1]

    await wait_until(gate, what="the gate of the run no cancellation covers")
    assert await _status(session, base, "release", free["id"]) == "executing"
    # refusals of a 200-only operation are in the body
    status, refused = await call(session, "POST", f"{base}/v1/cancellations", json={"app_id": "demo-app"})
    assert status == 200 and "function_id" in refused["error"] and "data" not in refused


async def test_a_signal_approves_or_denies_the_waiting_run(engine: EngineHandle,
                                                           session: aiohttp.ClientSession) -> None:
    base = engine.url
    outcomes = {}
    for env, data in (("s-ok", {"approved": True}), ("s-no", False)):
        _, run = await call(session, "POST", f"{base}{APP}/pipelines/release/runs", json={"inputs": {"env_id": env}})

        async def waiting(run_id: str = run["id"]) -> Any:
            return (await call(session, "GET", f"{base}{APP}/approvals",
                               params={"run": run_id, "status": "waiting"}))[1]

        approval = (await wait_until(waiting, what="the gate"))[0]
        signal = approval["id"] if data is False else run_ulid(run["id"])  # either names the wait
        status, resumed = await call(session, "POST", f"{base}/v1/signals", json={"signal": signal, "data": data})
        assert status == 200 and resumed == {"run_id": run_ulid(run["id"])}
        outcomes[env] = (await call(session, "GET", f"{base}{APP}/pipelines/release/runs/{run['id']}/jobs/release/"
                                                    f"approvals/{approval['id']}"))[1]["status"]
    assert outcomes == {"s-ok": "approved", "s-no": "denied"}
