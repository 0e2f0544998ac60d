"""End to end: humanitec-pipelineruns served by `naftiko run` over the bundled local engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.paths import CAPABILITIES
from tests.support.runtime import Runtime, poll, request, start

APP = "/v1/orgs/demo-org/apps/demo-app"


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = start(CAPABILITIES / "humanitec-pipelineruns.yaml", log=tmp_path_factory.mktemp("rt") / "run.log")
    yield runtime
    runtime.stop()


def create(rt: Runtime, pipeline: str, inputs: dict | None = None) -> dict:
    status, _, run = request("POST", f"{rt.rest}{APP}/pipelines/{pipeline}/runs", {"inputs": inputs or {}})
    assert status == 201, run
    return run


def get_run(rt: Runtime, pipeline: str, run_id: str) -> dict:
    status, _, run = request("GET", f"{rt.rest}{APP}/pipelines/{pipeline}/runs/{run_id}")
    assert status == 200, run
    return run


def wait_status(rt: Runtime, pipeline: str, run_id: str, *wanted: str) -> dict:
    return poll(lambda: (r := get_run(rt, pipeline, run_id))["status"] in wanted and r, timeout=60)


def test_ready_reports_the_local_engine(rt: Runtime) -> None:
    status, _, body = request("GET", f"{rt.rest}/health/ready")
    assert status == 200
    (ns,) = body["namespaces"]
    assert ns["namespace"] == "humanitec-pipelineruns" and ns["mode"] == "local-engine"
    assert request("GET", f"{rt.rest}/health/live")[2] == {"status": "UP"}


def test_ci_run_to_succeeded_with_jobs_steps_and_logs(rt: Runtime) -> None:
    run = create(rt, "ci")
    assert run["pipeline_id"] == "ci" and run["org_id"] == "demo-org" and run["status"] in ("queued", "executing")
    done = wait_status(rt, "ci", run["id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done
    status, _, jobs = request("GET", f"{rt.rest}{APP}/pipelines/ci/runs/{run['id']}/jobs")
    assert status == 200 and jobs and all(j["status"] == "succeeded" for j in jobs)
    job_id = jobs[0]["id"]
    status, _, job = request("GET", f"{rt.rest}{APP}/pipelines/ci/runs/{run['id']}/jobs/{job_id}")
    assert status == 200 and job["id"] == job_id and job["steps"]
    step = job["steps"][0]
    status, _, logs = request("GET", f"{rt.rest}{APP}/pipelines/ci/runs/{run['id']}/jobs/{job_id}/steps/{step['index']}/logs")
    assert status == 200 and isinstance(logs, list) and logs and {"at", "level", "message"} <= set(logs[0])


def test_create_by_trigger_criteria_and_dry_run(rt: Runtime) -> None:
    before = request("GET", f"{rt.rest}/v1/orgs/demo-org/pipeline-runs?per_page=100")[2]
    status, _, body = request("POST", f"{rt.rest}{APP}/pipeline-runs?dry_run=true", {"trigger": "deployment_request", "env_id": "development", "delta_id": "d1"})
    assert status == 204 and body is None
    status, _, _ = request("POST", f"{rt.rest}{APP}/pipelines/ci/runs?dry_run=true", {"inputs": {}})
    assert status == 204
    after = request("GET", f"{rt.rest}/v1/orgs/demo-org/pipeline-runs?per_page=100")[2]
    assert len(after) == len(before), "dry_run stores nothing"
    status, _, run = request("POST", f"{rt.rest}{APP}/pipeline-runs", {"trigger": "deployment_request", "env_id": "development", "delta_id": "d1"})
    assert status == 201, run
    assert run["pipeline_id"] == "release" and run["trigger"] == "deployment_request"


def test_cancel_a_running_release(rt: Runtime) -> None:
    run = create(rt, "release")
    wait_status(rt, "release", run["id"], "executing")
    status, _, body = request("POST", f"{rt.rest}{APP}/pipelines/release/runs/{run['id']}/cancel")
    assert status == 204 and body is None
    done = wait_status(rt, "release", run["id"], "cancelled")
    assert done["status"] == "cancelled"


def test_restart_and_delete_a_finished_run(rt: Runtime) -> None:
    run = create(rt, "ci", {"ref": "feature-x"})
    wait_status(rt, "ci", run["id"], "succeeded")
    status, _, again = request("POST", f"{rt.rest}{APP}/pipelines/ci/runs/{run['id']}/restart")
    assert status == 201 and again["id"] != run["id"]
    assert again["inputs"] == run["inputs"] and again["trigger"] == run["trigger"]
    status, _, _ = request("DELETE", f"{rt.rest}{APP}/pipelines/ci/runs/{run['id']}")
    assert status == 204
    status, _, body = request("GET", f"{rt.rest}{APP}/pipelines/ci/runs/{run['id']}")
    assert status == 404 and body["error"] == "upstream_rejected" and body["upstream"]["body"]["error"].startswith("API-")


def test_deleting_an_active_run_is_refused(rt: Runtime) -> None:
    run = create(rt, "release")
    status, _, body = request("DELETE", f"{rt.rest}{APP}/pipelines/release/runs/{run['id']}")
    assert status == 409, body
    request("POST", f"{rt.rest}{APP}/pipelines/release/runs/{run['id']}/cancel")


def test_list_by_org_filtered_newest_first_and_paged(rt: Runtime) -> None:
    ids = [create(rt, "broken")["id"] for _ in range(3)]
    for run_id in ids:
        wait_status(rt, "broken", run_id, "failed")
    status, _, runs = request("GET", f"{rt.rest}/v1/orgs/demo-org/pipeline-runs?app=demo-app&status=failed&pipeline=broken")
    assert status == 200
    assert [r["id"] for r in runs][:3] == list(reversed(ids))
    assert all(r["status"] == "failed" and r["app_id"] == "demo-app" for r in runs)
    created = [r["created_at"] for r in runs]
    assert created == sorted(created, reverse=True)
    status, headers, page = request("GET", f"{rt.rest}/v1/orgs/demo-org/pipeline-runs?per_page=2")
    assert status == 200 and len(page) == 2
    link = headers["Link"]
    assert link.startswith(f"<{rt.rest}/v1/orgs/demo-org/pipeline-runs?") and 'rel="next"' in link
    status, _, next_page = request("GET", link[1 : link.index(">")])
    assert status == 200 and next_page and {r["id"] for r in next_page}.isdisjoint({r["id"] for r in page})


def test_errors_and_routing(rt: Runtime) -> None:
    status, headers, body = request("PUT", f"{rt.rest}/v1/orgs/demo-org/pipeline-runs")
    assert status == 405 and headers["Allow"] == "GET" and body["error"] == "method_not_allowed"
    status, _, body = request("GET", f"{rt.rest}/v1/orgs/demo-org/nothing-here")
    assert status == 404 and body["error"] == "not_found"
    status, _, body = request("GET", f"{rt.rest}{APP}/pipelines/nope/runs/00000000-0000-0000-0000-000000000000")
    assert status == 404 and "message" in body
    status, _, body = request("POST", f"{rt.rest}{APP}/pipelines/ci/runs", None, {"Content-Type": "application/json"})
    assert status in (400, 422)


def test_etag_and_access_log(rt: Runtime) -> None:
    run = create(rt, "ci")
    status, headers, _ = request("GET", f"{rt.rest}{APP}/pipelines/ci/runs/{run['id']}")
    assert status == 200 and headers.get("ETag")
    assert "X-Request-Id" in headers
    poll(lambda: "route=/v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs/{runid}" in rt.logs())
