"""Seed 002's runs API: envelope, statuses (invalid, timeout, cancelled…), filters, ordering,
PUT transitions (only cancel or release a wait; 400 otherwise), DELETE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from naftiko_runtime.engine import EngineHandle, start_engine

from .helpers import call, wait_until, write_pipeline

FAST = "name: Fast\non: {pipeline_call: {}}\njobs: {a: {steps: [{uses: log, with: {message: hi}}]}}\n"
BOOM = "name: Boom\non: {pipeline_call: {}}\njobs: {a: {steps: [{uses: fail, with: {message: boom}}]}}\n"
SLOW = ("name: Slow\non: {pipeline_call: {}}\ntimeout-minutes: 0.01\n"
        "jobs: {a: {steps: [{uses: sleep, with: {seconds: 30}}]}}\n")
GATE = ("name: Gate\non: {pipeline_call: {}}\n"
        "jobs: {a: {steps: [{uses: approve, with: {message: go?}}, {uses: log, with: {message: after}}]}}\n")


@pytest.fixture
async def v0(tmp_path: Path) -> AsyncIterator[EngineHandle]:
    for pid, text in (("fast", FAST), ("boom", BOOM), ("slow", SLOW), ("gate", GATE)):
        write_pipeline(tmp_path, pid, text)
    write_pipeline(tmp_path, "fast", FAST, org="t-org", app="other-app")  # same id in another app
    handle = await start_engine(port=0, db=":memory:", pipelines_dir=tmp_path)
    try:
        yield handle
    finally:
        await handle.close()


def runs_url(base: str, pid: str) -> str:
    return f"{base}/pipelines/v0/pipelines/{pid}/runs"


async def start(session: aiohttp.ClientSession, base: str, pid: str) -> dict[str, Any]:
    status, body = await call(session, "POST", runs_url(base, pid), json={})
    assert status == 200 and body["code"] == 0, body
    return body["content"]


async def status_of(session: aiohttp.ClientSession, base: str, pid: str, rid: str, *wanted: str) -> dict[str, Any]:
    async def check() -> Any:
        status, body = await call(session, "GET", f"{runs_url(base, pid)}/{rid}")
        assert status == 200, body
        return body["content"] if body["content"]["status"] in wanted else None

    return await wait_until(check, what=f"run {rid} to be {wanted}")


async def test_statuses_put_rules_and_delete(v0: EngineHandle, session: aiohttp.ClientSession) -> None:
    base = v0.url
    # 'fast' exists in two apps: the plain id is ambiguous, org:app:id is not
    status, err = await call(session, "POST", runs_url(base, "fast"), json={})
    assert status == 400 and err["code"] == 400 and "t-org:t-app:fast" in err["message"] and err["content"] == {}
    fast = await start(session, base, "t-org:t-app:fast")
    assert fast["status"] == "queued" and fast["run_number"] == 1
    boom = await start(session, base, "boom")
    slow = await start(session, base, "slow")
    gate = await start(session, base, "gate")
    assert (await status_of(session, base, "t-org:t-app:fast", fast["id"], "success"))["ended_at"]
    await status_of(session, base, "boom", boom["id"], "failure")
    timed = await status_of(session, base, "slow", slow["id"], "timeout")
    assert "timed out" in timed["status_message"]
    await status_of(session, base, "gate", gate["id"], "waiting")

    # a stage pipeline with zero stages: the run is `invalid` at once
    status, empty = await call(session, "POST", f"{base}/api/v1/pipelines", json={"name": "empty"})
    assert status == 201 and empty["stages"] == []
    invalid = await start(session, base, empty["id"])
    assert invalid["status"] == "invalid" and invalid["stages"] == []

    put = f"{runs_url(base, 'gate')}/{gate['id']}"
    for bad in ("success", "queued", "waiting", "bogus", None):
        status, err = await call(session, "PUT", put, json={"status": bad})
        assert status == 400 and err["code"] == 400, (bad, err)
    status, released = await call(session, "PUT", put, json={"status": "running"})
    assert status == 200 and released["content"]["status"] in ("running", "complete", "success")
    await status_of(session, base, "gate", gate["id"], "success")
    for target in ("running", "cancelled"):  # a finished run moves nowhere
        assert (await call(session, "PUT", put, json={"status": target}))[0] == 400

    second = await start(session, base, "gate")
    assert second["run_number"] == 2
    await status_of(session, base, "gate", second["id"], "waiting")
    put2 = f"{runs_url(base, 'gate')}/{second['id']}"
    assert (await call(session, "DELETE", put2))[0] == 400  # still active
    status, cancelled = await call(session, "PUT", put2, json={"status": "cancelled"})
    assert status == 200 and cancelled["content"]["status"] == "cancelled"
    status, deleted = await call(session, "DELETE", put2)
    assert status == 200 and deleted["code"] == 0 and deleted["content"]["id"] == second["id"]
    assert (await call(session, "GET", put2))[0] == 404
    assert (await call(session, "GET", f"{runs_url(base, 'boom')}/{gate['id']}"))[0] == 404  # other pipeline


async def test_filters_and_ordering(v0: EngineHandle, session: aiohttp.ClientSession) -> None:
    base = v0.url
    runs = [await start(session, base, pid) for pid in ("boom", "gate", "boom", "t-org:other-app:fast")]
    await status_of(session, base, "boom", runs[0]["id"], "failure")
    await status_of(session, base, "boom", runs[2]["id"], "failure")
    await status_of(session, base, "gate", runs[1]["id"], "waiting")
    await status_of(session, base, "t-org:other-app:fast", runs[3]["id"], "success")

    async def listing(url: str, **params: str) -> list[dict[str, Any]]:
        status, body = await call(session, "GET", url, params=params)
        assert status == 200 and body["code"] == 0 and body["content"]["count"] == len(body["content"]["results"])
        return body["content"]["results"]

    all_url = f"{base}/v0/runs"
    assert [r["id"] for r in await listing(all_url)] == [r["id"] for r in reversed(runs)]  # newest first
    assert {r["pipeline_name"] for r in await listing(all_url, status="failure")} == {"Boom"}
    assert [r["status"] for r in await listing(all_url, pipeline_name="Gate")] == ["waiting"]
    assert await listing(all_url, status="timeout") == []
    names = [r["pipeline_name"] for r in await listing(all_url, ordering="pipeline__name")]
    assert names == sorted(names) and names[0] == "Boom"
    assert [r["pipeline_name"] for r in await listing(all_url, ordering="-pipeline__name")] == sorted(names, reverse=True)
    statuses = [r["status"] for r in await listing(all_url, ordering="-status")]
    assert statuses == sorted(statuses, reverse=True)
    ended = await listing(all_url, ordering="ended_at")
    assert ended[-1]["ended_at"] is None  # the waiting run has no end yet: last
    stamps = [r["ended_at"] for r in ended if r["ended_at"]]
    assert stamps == sorted(stamps)
    boom = await listing(runs_url(base, "boom"), ordering="-run_number")
    assert [r["run_number"] for r in boom] == [2, 1]
    assert [r["run_number"] for r in await listing(runs_url(base, "boom"), ordering="run_number")] == [1, 2]
    for bad in ({"ordering": "colour"}, {"status": "done"}):
        status, err = await call(session, "GET", all_url, params=bad)
        assert status == 400 and err["code"] == 400
    # per pipeline, pipeline__name is not an ordering key (seed 002's enum)
    assert (await call(session, "GET", runs_url(base, "boom"), params={"ordering": "pipeline__name"}))[0] == 400
    assert (await call(session, "GET", runs_url(base, "nope")))[0] == 404
