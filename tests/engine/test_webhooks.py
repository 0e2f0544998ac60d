"""Humanitec webhooks (seed 003): CRUD and its codes, the events catalogue, and real deliveries
to a local receiver, with retries, the journal, and a restart with a delivery still pending."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from naftiko_runtime.engine import EngineHandle, start_engine

from .helpers import call, wait_until

ORG, APP = "demo-org", "demo-app"


class Receiver:
    """A real HTTP server on loopback that records every POST and answers scripted statuses."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.script: list[int] = []  # statuses to answer first, then 200
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        status = self.script.pop(0) if self.script else 200
        self.received.append({"path": request.path, "headers": dict(request.headers),
                              "body": await request.json(), "answered": status})
        return web.json_response({"ok": status < 300}, status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


@pytest.fixture
async def fast_engine() -> AsyncIterator[EngineHandle]:
    handle = await start_engine(port=0, db=":memory:", webhook_attempts=4, webhook_backoff=0.01)
    try:
        yield handle
    finally:
        await handle.close()


def hooks_url(base: str, org: str = ORG, app: str = APP) -> str:
    return f"{base}/orgs/{org}/apps/{app}/webhooks"


async def test_webhook_crud_codes_and_catalogue(engine: EngineHandle, session: aiohttp.ClientSession) -> None:
    url = hooks_url(engine.url)
    body = {"id": "ci-hook", "url": "https://example.invalid/hook", "headers": {"X-Key": "k"},
            "payload": {"text": "${event} in ${env_id}"},
            "triggers": [{"scope": "deployment", "type": "finished"}]}
    status, created = await call(session, "POST", url, json=body)
    assert status == 201
    assert created["id"] == "ci-hook" and created["disabled"] is False and created["created_at"].endswith("Z")
    assert {"id", "url", "headers", "payload", "triggers", "disabled", "created_at", "created_by"} <= set(created)
    assert (await call(session, "POST", url, json=body))[0] == 409
    # unique within the org: another app of the same org clashes too
    assert (await call(session, "POST", hooks_url(engine.url, app="other-app"), json=body))[0] == 409
    assert (await call(session, "POST", url, json={**body, "id": "x2", "triggers": [{"scope": "a", "type": "b"}]}))[0] == 400
    assert (await call(session, "POST", url, json={"id": "no-url"}))[0] == 400
    assert (await call(session, "POST", url, data="not json"))[0] == 400

    status, listed = await call(session, "GET", url)
    assert status == 200 and [h["id"] for h in listed] == ["ci-hook"]
    status, patched = await call(session, "PATCH", f"{url}/ci-hook", json={"disabled": True, "url": "example.invalid/x"})
    assert status == 200 and patched["disabled"] is True and patched["url"] == "example.invalid/x"
    assert not {"id", "created_at", "created_by"} & set(patched)
    assert (await call(session, "PATCH", f"{url}/nope", json={"disabled": True}))[0] == 404
    status, got = await call(session, "GET", f"{url}/ci-hook")
    assert status == 200 and got["disabled"] is True and got["headers"] == {"X-Key": "k"}
    assert (await call(session, "DELETE", f"{url}/ci-hook"))[0] == 204
    assert (await call(session, "GET", f"{url}/ci-hook"))[0] == 404
    assert (await call(session, "DELETE", f"{url}/ci-hook"))[0] == 404

    for wid in ("a1", "a2"):
        assert (await call(session, "POST", url, json={"id": wid, "url": "https://example.invalid"}))[0] == 201
    jobs = f"{engine.url}/orgs/{ORG}/apps/{APP}/jobs"
    assert (await call(session, "DELETE", jobs))[0] == 204
    assert (await call(session, "GET", url))[1] == []
    assert (await call(session, "DELETE", jobs))[0] == 204  # idempotent

    status, catalogue = await call(session, "GET", f"{engine.url}/orgs/{ORG}/events")
    assert status == 200
    assert {(e["scope"], e["type"]) for e in catalogue} == {
        ("environment", "created"), ("environment", "deleted"), ("deployment", "started"), ("deployment", "finished")}
    deploy = next(e for e in catalogue if e["type"] == "started")
    assert {"event", "org_id", "triggered_at", "triggered_by", "deploy_id", "env_id", "set_id"} <= set(deploy["properties"])
    # the /v1 alias serves the same
    assert (await call(session, "GET", f"{engine.url}/v1/orgs/{ORG}/events"))[0] == 200


async def _journal(session: aiohttp.ClientSession, base: str, **params: str) -> list[dict[str, Any]]:
    return (await call(session, "GET", f"{base}/_engine/deliveries", params=params))[1]


async def test_deploy_delivers_after_two_500s(fast_engine: EngineHandle, session: aiohttp.ClientSession,
                                             receiver: Receiver) -> None:
    base = fast_engine.url
    body = {"id": "deploys", "url": f"{receiver.url}/deploys", "headers": {"X-Secret": "shh"},
            "payload": {"msg": "${event}: ${deploy_id} to ${env_id} (${status})", "env": "${env_id}",
                        "unknown": "${not_a_param}"},
            "triggers": [{"scope": "deployment", "type": "started"}, {"scope": "deployment", "type": "finished"}]}
    assert (await call(session, "POST", hooks_url(base), json=body))[0] == 201
    # a second webhook with the default payload, for environment events only
    assert (await call(session, "POST", hooks_url(base), json={
        "id": "envs", "url": f"{receiver.url}/envs",
        "triggers": [{"scope": "environment", "type": "created"}]}))[0] == 201
    receiver.script = [500, 500]  # the first delivery fails twice, then succeeds

    run_url = f"{base}/orgs/{ORG}/apps/{APP}/pipelines/release/runs"
    status, run = await call(session, "POST", run_url, json={"inputs": {"env_id": "staging", "set_id": "set-1"}})
    assert status == 201

    async def approval() -> Any:
        items = (await call(session, "GET", f"{base}/orgs/{ORG}/apps/{APP}/approvals",
                            params={"run": run["id"], "status": "waiting"}))[1]
        return items[0] if items else None

    gate = await wait_until(approval, what="the release approval")
    approve = f"{run_url}/{run['id']}/jobs/{gate['job_id']}/approvals/{gate['id']}/approve"
    assert (await call(session, "POST", approve))[0] == 200

    async def delivered() -> Any:
        items = await _journal(session, base, webhook="deploys")
        return items if len(items) == 2 and all(d["status"] == "delivered" for d in items) else None

    journal = await wait_until(delivered, what="both deployment deliveries")
    started, finished = journal
    assert [a["status_code"] for a in started["attempts"]] == [500, 500, 200]
    assert [a["status_code"] for a in finished["attempts"]] == [200]
    assert started["event"] == "deployment.started" and finished["event"] == "deployment.finished"
    # what the receiver saw: in order, with stored headers and placeholders filled
    ok = [r for r in receiver.received if r["answered"] == 200 and r["path"] == "/deploys"]
    assert [r["body"]["msg"].split(":")[0] for r in ok] == ["deployment.started", "deployment.finished"]
    assert ok[1]["body"]["msg"].endswith("to staging (succeeded)") and ok[1]["body"]["env"] == "staging"
    assert ok[1]["body"]["unknown"] == "${not_a_param}"
    assert all(r["headers"]["X-Secret"] == "shh" for r in receiver.received)
    assert len([r for r in receiver.received if r["path"] == "/deploys"]) == 4
    assert not await _journal(session, base, webhook="envs")  # not subscribed to deployments

    # environment created, fired by hand: default payload
    status, created = await call(session, "POST", f"{base}/_engine/fire", json={
        "scope": "environment", "type": "created", "org_id": ORG, "app_id": APP, "env_id": "qa", "env_type": "test"})
    assert status == 201 and [d["webhook_id"] for d in created] == ["envs"]

    async def env_delivery() -> Any:
        return [r for r in receiver.received if r["path"] == "/envs"]

    (got,) = await wait_until(env_delivery, what="the environment delivery")
    assert set(got["body"]) == {"event", "triggered_at", "triggered_by", "org_id", "app_id", "env_id"}
    assert got["body"]["event"] == "environment.created" and got["body"]["env_id"] == "qa"
    assert (await call(session, "POST", f"{base}/_engine/fire", json={"scope": "x", "type": "y"}))[0] == 400


async def test_gives_up_after_bounded_attempts_and_skips_disabled(
        fast_engine: EngineHandle, session: aiohttp.ClientSession, receiver: Receiver) -> None:
    base = fast_engine.url
    for wid, disabled in (("flaky", False), ("off", True)):
        assert (await call(session, "POST", hooks_url(base), json={
            "id": wid, "url": f"{receiver.url}/{wid}", "disabled": disabled,
            "triggers": [{"scope": "environment", "type": "deleted"}]}))[0] == 201
    receiver.script = [503] * 10
    await call(session, "POST", f"{base}/_engine/fire", json={
        "scope": "environment", "type": "deleted", "org_id": ORG, "app_id": APP, "env_id": "gone"})

    async def failed() -> Any:
        items = await _journal(session, base, status="failed")
        return items or None

    (doc,) = await wait_until(failed, what="the delivery to give up")
    assert doc["webhook_id"] == "flaky" and len(doc["attempts"]) == 4
    assert all(a["status_code"] == 503 for a in doc["attempts"])
    assert not [r for r in receiver.received if r["path"] == "/off"]


async def test_environment_action_fires_and_4xx_is_not_retried(
        tmp_path: Path, session: aiohttp.ClientSession, receiver: Receiver) -> None:
    root = tmp_path / "p" / "t-org" / "t-app"
    root.mkdir(parents=True)
    (root / "envs.yaml").write_text(
        "name: Envs\non: {pipeline_call: {}}\njobs:\n  main:\n    steps:\n"
        "      - {uses: environment, with: {operation: create, env_id: pr-7, type: preview}}\n")
    handle = await start_engine(port=0, db=":memory:", pipelines_dir=tmp_path / "p", webhook_backoff=0.01)
    try:
        assert (await call(session, "POST", hooks_url(handle.url, "t-org", "t-app"), json={
            "id": "h", "url": f"{receiver.url}/h", "payload": {"n": "${name}", "t": "${type}"}}))[0] == 201
        receiver.script = [404]
        assert (await call(session, "POST", f"{handle.url}/orgs/t-org/apps/t-app/pipelines/envs/runs",
                           json={"inputs": {}}))[0] == 201

        async def settled() -> Any:
            items = await _journal(session, handle.url)
            return items if items and items[0]["status"] != "pending" else None

        (doc,) = await wait_until(settled, what="the delivery to settle")
        assert doc["status"] == "failed" and len(doc["attempts"]) == 1  # a 404 is final
        assert receiver.received[0]["body"] == {"n": "pr-7", "t": "preview"}
    finally:
        await handle.close()


async def test_pending_delivery_survives_a_restart(tmp_path: Path, session: aiohttp.ClientSession,
                                                   receiver: Receiver) -> None:
    db = str(tmp_path / "engine.db")
    handle = await start_engine(port=0, db=db, webhook_attempts=10, webhook_backoff=30)
    try:
        assert (await call(session, "POST", hooks_url(handle.url), json={
            "id": "later", "url": f"{receiver.url}/later"}))[0] == 201
        receiver.script = [500]
        await call(session, "POST", f"{handle.url}/_engine/fire", json={
            "scope": "environment", "type": "created", "org_id": ORG, "app_id": APP, "env_id": "dev"})

        async def tried_once() -> Any:
            items = await _journal(session, handle.url)
            return items if items and items[0]["attempts"] else None

        (doc,) = await wait_until(tried_once, what="the first attempt")
        assert doc["status"] == "pending" and doc["next_attempt_at"]  # next try is 30 s away
    finally:
        await handle.close()
    handle = await start_engine(port=0, db=db, webhook_backoff=0.01)  # same DB: resumed at once
    try:
        async def delivered() -> Any:
            items = await _journal(session, handle.url, status="delivered")
            return items or None

        (doc,) = await wait_until(delivered, what="the resumed delivery")
        assert [a["status_code"] for a in doc["attempts"]] == [500, 200]
        state = (await call(session, "GET", f"{handle.url}/_engine/state"))[1]
        assert state["webhooks"] == 1 and state["deliveries"] == {"pending": 0, "delivered": 1, "failed": 0}
        assert (await call(session, "GET", hooks_url(handle.url)))[1][0]["id"] == "later"
        # a reset forgets webhooks and the journal
        await call(session, "POST", f"{handle.url}/_engine/reset")
        assert await _journal(session, handle.url) == []
        assert (await call(session, "GET", hooks_url(handle.url)))[1] == []
    finally:
        await handle.close()
