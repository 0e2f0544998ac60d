"""End to end over the local engine: humanitec-event webhooks and inngest-runs through the REST adapter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.paths import CAPABILITIES
from tests.support.runtime import Runtime, poll, request, start

APP = "/v1/orgs/demo-org/apps/demo-app"


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = start(
        CAPABILITIES / "humanitec-event.yaml", CAPABILITIES / "inngest-runs.yaml",
        log=tmp_path_factory.mktemp("rt") / "run.log",
    )
    yield runtime
    runtime.stop()


def engine_url(rt: Runtime) -> str:
    _, _, ready = request("GET", f"{rt.rest}/health/ready")
    return next(n["upstream"] for n in ready["namespaces"] if n["mode"] == "local-engine")


def hook(n: int) -> dict:
    return {"id": f"hook-{n}", "url": f"http://127.0.0.1:9/hook-{n}", "triggers": [{"scope": "deployment", "type": "finished"}]}


def test_webhook_crud_and_delete_all_jobs(rt: Runtime) -> None:
    for n in (1, 2, 3):
        status, _, created = request("POST", f"{rt.rest}{APP}/webhooks", hook(n))
        assert status == 201 and created["id"] == f"hook-{n}"
    status, _, body = request("POST", f"{rt.rest}{APP}/webhooks", hook(1))
    assert status == 409, body
    status, _, listed = request("GET", f"{rt.rest}{APP}/webhooks")
    assert status == 200 and {h["id"] for h in listed} == {"hook-1", "hook-2", "hook-3"}
    status, _, got = request("GET", f"{rt.rest}{APP}/webhooks/hook-2")
    assert status == 200 and got["url"] == "http://127.0.0.1:9/hook-2"
    status, _, patched = request("PATCH", f"{rt.rest}{APP}/webhooks/hook-2", {"disabled": True})
    assert status == 200 and patched["disabled"] is True and "id" not in patched
    status, _, _ = request("DELETE", f"{rt.rest}{APP}/webhooks/hook-1")
    assert status == 204
    status, _, listed = request("GET", f"{rt.rest}{APP}/webhooks")
    assert {h["id"] for h in listed} == {"hook-2", "hook-3"}, "deleting one webhook leaves the others"
    status, _, body = request("GET", f"{rt.rest}{APP}/webhooks/hook-1")
    assert status == 404
    status, _, _ = request("DELETE", f"{rt.rest}{APP}/jobs")
    assert status == 204
    status, _, listed = request("GET", f"{rt.rest}{APP}/webhooks")
    assert status == 200 and listed == []


def test_list_events(rt: Runtime) -> None:
    status, _, events = request("GET", f"{rt.rest}/v1/orgs/demo-org/events")
    assert status == 200
    assert {(e["scope"], e["type"]) for e in events} == {
        ("environment", "created"), ("environment", "deleted"), ("deployment", "started"), ("deployment", "finished"),
    }


def test_inngest_run_status_jobs_and_cancel(rt: Runtime) -> None:
    engine = engine_url(rt)
    # the release pipeline waits at its approval gate: the run is certainly running when it is cancelled
    status, _, sent = request("POST", f"{engine}/e/local", {"name": "demo/release.requested", "data": {}})
    assert status == 200, sent
    event_id = sent["ids"][0]
    run_id = poll(lambda: (r := request("GET", f"{engine}/v1/events/{event_id}/runs")[2]["data"]) and r[0]["run_id"])
    status, _, run = request("GET", f"{rt.rest}/v1/v1/runs/{run_id}")
    assert status == 200 and run["data"]["run_id"] == run_id and run["data"]["status"] in ("Scheduled", "Running")
    assert "metadata" in run
    status, _, jobs = request("GET", f"{rt.rest}/v1/v1/runs/{run_id}/jobs")
    assert status == 200 and isinstance(jobs["data"], list)
    status, _, body = request("POST", f"{rt.rest}/v1/v1/runs/{run_id}/cancel")
    assert status == 204 and body is None, "an empty 200 is relayed as 204, as the exported document says"
    final = poll(lambda: (r := request("GET", f"{rt.rest}/v1/v1/runs/{run_id}")[2]["data"])["status"] != "Running" and r)
    assert final["status"] == "Cancelled" and final["ended_at"]
    status, _, missing = request("GET", f"{rt.rest}/v1/v1/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert status == 404 and missing["error"] == "upstream_rejected" and missing["upstream"]["body"]["status"] == 404
    status, _, body = request("GET", f"{rt.rest}/v1/runs/{run_id}")
    assert status == 404 and body["error"] == "not_found", "the double prefix is served exactly as declared"
