"""The engine page over HTTP: escaping, the live fragments, the actions and who may use them.

The browser itself is driven in ``test_ui_browser.py``; these tests check what the server
answers, against a real engine on a loopback port.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from naftiko_runtime.engine import EngineHandle, start_engine

from .helpers import wait_until

HOSTILE = """
name: "<script>alert('name')</script>"
on:
  pipeline_call:
    inputs:
      note: {type: string, default: "<img src=x onerror=alert(1)>"}
jobs:
  only:
    name: "<b>job</b>"
    steps:
      - name: "<i>step</i>"
        uses: log
        with: {message: "log says ${{ inputs.note }}"}
"""

GATED = """
name: Gated
on: {pipeline_call: {}}
jobs:
  main:
    steps:
      - id: gate
        uses: actions/humanitec/approve@v1
        with: {environment: staging, message: "ship <it>?"}
      - uses: log
        with: {message: "after the gate"}
"""


@pytest.fixture
async def page_engine(tmp_path: Path) -> AsyncIterator[EngineHandle]:
    folder = tmp_path / "pipelines" / "t-org" / "t-app"
    folder.mkdir(parents=True)
    (folder / "hostile.yaml").write_text(HOSTILE)
    (folder / "gated.yaml").write_text(GATED)
    handle = await start_engine(port=0, db=":memory:", pipelines_dir=tmp_path / "pipelines")
    try:
        yield handle
    finally:
        await handle.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def _trigger(http: aiohttp.ClientSession, base: str, pipeline: str, inputs: dict | None = None) -> dict:
    async with http.post(f"{base}/ui/pipelines/t-org/t-app/{pipeline}/runs", json={"inputs": inputs or {}}) as r:
        assert r.status == 201, await r.text()
        return await r.json()


async def _run_state(http: aiohttp.ClientSession, base: str, run_id: str) -> str:
    async with http.get(f"{base}/ui/live/runs/{run_id}") as r:
        html = (await r.json())["html"]
    return re.search(r'id="run-status" data-state="([a-z_]+)"', html).group(1)


async def test_pages_answer_with_escaped_names_inputs_and_logs(page_engine: EngineHandle, http) -> None:
    base = page_engine.url
    async with http.get(base + "/ui") as r:
        assert r.status == 200 and r.content_type == "text/html"
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        html = await r.text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in html
    run = await _trigger(http, base, "hostile")
    await wait_until(lambda: _succeeded(http, base, run["run_id"]), what="the hostile run to succeed")
    async with http.get(base + run["location"]) as r:
        html = await r.text()
    assert "log says &lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "<b>job</b>" not in html and "<i>step</i>" not in html
    assert "&lt;b&gt;job&lt;/b&gt;" in html and "&lt;i&gt;step&lt;/i&gt;" in html
    assert not re.search(r"\son[a-z]+=", html.replace("onerror=alert", "")), "no inline event handlers"
    async with http.get(base + "/ui/pipelines/t-org/t-app/hostile") as r:
        assert r.status == 200
        assert "&lt;script&gt;" in await r.text()


async def _succeeded(http: aiohttp.ClientSession, base: str, run_id: str) -> bool:
    return await _run_state(http, base, run_id) == "succeeded"


async def test_live_fragment_is_sent_only_when_it_changed(page_engine: EngineHandle, http) -> None:
    base = page_engine.url
    async with http.get(base + "/ui/live/runs") as r:
        first = await r.json()
    assert "No runs yet" in first["html"]
    async with http.get(base + "/ui/live/runs", params={"v": first["sig"]}) as r:
        same = await r.json()
    assert same == {"sig": first["sig"], "waiting": 0}
    await _trigger(http, base, "hostile")
    async with http.get(base + "/ui/live/runs", params={"v": first["sig"]}) as r:
        changed = await r.json()
    assert changed["sig"] != first["sig"] and 'data-state="' in changed["html"]


async def test_approve_and_deny_from_the_page(page_engine: EngineHandle, http) -> None:
    base = page_engine.url
    runs = [await _trigger(http, base, "gated") for _ in range(2)]

    async def waiting() -> list[str]:
        async with http.get(base + "/ui/live/approvals") as r:
            body = await r.json()
        return re.findall(r'/approvals/([0-9a-f-]+)/approve', body["html"]) if body["waiting"] == 2 else []

    await wait_until(waiting, what="two approvals waiting")
    for run, decision in zip(runs, ("approve", "deny")):
        async with http.get(base + run["location"]) as r:
            html = await r.text()
        assert "ship &lt;it&gt;?" in html
        approval = re.search(r'/approvals/([0-9a-f-]+)/approve', html).group(1)
        async with http.post(f"{base}/ui/runs/{run['run_id']}/approvals/{approval}/{decision}", json={}) as r:
            assert r.status == 200
            assert (await r.json())["status"] == ("approved" if decision == "approve" else "denied")
    await wait_until(lambda: _succeeded(http, base, runs[0]["run_id"]), what="the approved run to succeed")

    async def failed() -> bool:
        return await _run_state(http, base, runs[1]["run_id"]) == "failed"

    await wait_until(failed, what="the denied run to fail")
    async with http.post(f"{base}/ui/runs/{runs[0]['run_id']}/approvals/{approval}/approve", json={}) as r:
        assert r.status == 404  # another run's approval


async def test_bad_trigger_inputs_answer_the_engines_message(page_engine: EngineHandle, http) -> None:
    async with http.post(page_engine.url + "/ui/pipelines/t-org/t-app/hostile/runs",
                         json={"inputs": {"note": 3}}) as r:
        assert r.status == 400
        assert "input 'note' must be of type string" in (await r.json())["message"]
    async with http.get(page_engine.url + "/ui/runs/no-such-run") as r:
        assert r.status == 404 and "no-such-run" in await r.text()


async def test_actions_refuse_cross_site_requests(page_engine: EngineHandle, http) -> None:
    url = page_engine.url + "/ui/pipelines/t-org/t-app/hostile/runs"
    async with http.post(url, data='{"inputs": {}}', headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 415  # what a cross-site <form> can send
    async with http.post(url, json={"inputs": {}}, headers={"Origin": "http://evil.example"}) as r:
        assert r.status == 403
    async with http.post(url, json={"inputs": {}}, headers={"Sec-Fetch-Site": "cross-site"}) as r:
        assert r.status == 403
    async with http.get(page_engine.url + "/ui", headers={"Host": "rebound.example:80"}) as r:
        assert r.status == 403  # DNS rebinding: a foreign name pointing at 127.0.0.1
    async with http.get(page_engine.url + "/ui/live/runs") as r:
        assert "No runs yet" in (await r.json())["html"]


async def test_strict_auth_guards_the_page_and_links_carry_the_token(tmp_path: Path, http) -> None:
    handle = await start_engine(port=0, db=":memory:", strict_auth="s3cret")
    try:
        async with http.get(handle.url + "/ui") as r:
            assert r.status == 401
        async with http.post(handle.url + "/ui/pipelines/demo-org/demo-app/ci/runs", json={"inputs": {}}) as r:
            assert r.status == 401
        async with http.get(handle.url + "/ui", params={"token": "s3cret"}) as r:
            assert r.status == 200
            html = await r.text()
        assert 'href="/ui/approvals?token=s3cret"' in html and 'src="/ui/static/ui.js?token=s3cret"' in html
        async with http.post(handle.url + "/ui/pipelines/demo-org/demo-app/ci/runs?token=s3cret",
                             json={"inputs": {}}) as r:
            assert r.status == 201
            assert (await r.json())["location"].endswith("?token=s3cret")
    finally:
        await handle.close()


async def test_naftiko_run_logs_the_pages_address_when_it_starts_the_engine(caplog, http) -> None:
    from naftiko_runtime.runtime import RunOptions, Runtime

    runtime = Runtime(RunOptions(files=[], engine_port=0, engine_db=":memory:"))
    with caplog.at_level("INFO"):
        await runtime.start_engine()
    try:
        record = next(r for r in caplog.records if r.getMessage() == "local engine started")
        assert record.page == runtime.engine.url + "/ui"
        async with http.get(record.page) as r:
            assert r.status == 200 and "<h1>Pipelines</h1>" in await r.text()
    finally:
        await runtime.engine.stop()


async def test_cancel_a_waiting_run_from_the_page(page_engine: EngineHandle, http) -> None:
    base = page_engine.url
    run = await _trigger(http, base, "gated")

    async def waiting() -> bool:
        return await _run_state(http, base, run["run_id"]) == "waiting"

    await wait_until(waiting, what="the gated run to wait")
    async with http.get(base + run["location"]) as r:
        assert 'data-test="cancel"' in await r.text()
    async with http.post(f"{base}/ui/runs/{run['run_id']}/cancel", json={}) as r:
        assert r.status == 200

    async def cancelled() -> bool:
        return await _run_state(http, base, run["run_id"]) == "cancelled"

    await wait_until(cancelled, what="the run to be cancelled")
    async with http.get(base + run["location"]) as r:
        assert 'data-test="cancel"' not in await r.text()
    async with http.post(f"{base}/ui/runs/{run['run_id']}/cancel", json={}) as r:
        assert r.status == 200  # cancelling a cancelled run is a no-op, as in the API
