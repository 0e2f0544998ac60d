"""Every in-scope operation of the vendors' own API descriptions, driven against the real engine.

Each operation is called with real data (pipelines, runs, approvals, events, signals,
cancellations, webhooks made along the way) and every answer is checked against the
description by schemathesis: documented status, body schema (each document's own draft and
``nullable`` rules), content type, documented headers (``Etag``, ``Link``). The table of
served/conforming operations is printed (``pytest -s``) and must be complete.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import checks as C
from schemathesis.core import NOT_SET

from .vendor_contract import (
    AUTH,
    HUMANITEC_DOC,
    HUMANITEC_TAGS,
    INNGEST_DOC,
    engine_in_thread,
    in_scope,
    load,
)

CHECKS = [C.not_a_server_error, C.status_code_conformance, C.response_schema_conformance,
          C.content_type_conformance, C.response_headers_conformance]
ORG, APP = "demo-org", "demo-app"
GATE = {
    "id": "conf-gate", "name": "Conformance gate",
    "on": {"pipeline_call": {"inputs": {"env_id": {"type": "string", "default": "conf-env"}}},
           "deployment_request": {}},
    "jobs": {"main": {"steps": [
        {"name": "Gate", "uses": "actions/humanitec/approve@v1", "with": {"message": "go?"}},
        {"name": "Say", "uses": "log", "with": {"message": "done"}}]}},
}


class Driver:
    """Calls operations of one description and records whether each answer conforms."""

    def __init__(self, doc: dict[str, Any], base: str, tags: set[str] | None) -> None:
        self.schema = schemathesis.openapi.from_dict(doc)
        self.base = base
        self.ops = {(m, p) for m, p, _ in in_scope(doc, tags)}
        self.results: dict[tuple[str, str], list[tuple[int, str | None]]] = {}

    def __call__(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                 query: dict[str, Any] | None = None, body: Any = NOT_SET, media_type: str | None = None,
                 headers: dict[str, str] | None = None, expect: int | tuple[int, ...] | None = None) -> Any:
        assert (method, path) in self.ops, (method, path)
        case = self.schema[path][method].Case(path_parameters=params or {}, query=query, body=body,
                                               media_type=media_type, headers={**AUTH, **(headers or {})})
        response = case.call(base_url=self.base, timeout=15)
        error = None
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:  # a conformance failure: recorded, reported in the table and asserted
            error = f"{type(exc).__name__}: {str(exc)[:600]}"
        self.results.setdefault((method, path), []).append((response.status_code, error))
        if expect is not None:
            wanted = (expect,) if isinstance(expect, int) else expect
            assert response.status_code in wanted, (method, path, response.status_code, response.text[:300])
        return response

    def table(self, title: str) -> tuple[int, int, int, list[str]]:
        served = {op for op, calls in self.results.items() if any(200 <= s < 300 for s, _ in calls)}
        conforming = {op for op in served if all(err is None for _, err in self.results[op])}
        lines = [f"{title}: {len(served)}/{len(self.ops)} served, {len(conforming)}/{len(self.ops)} conforming"]
        for method, path in sorted(self.ops, key=lambda o: (o[1], o[0])):
            calls = self.results.get((method, path), [])
            mark = "ok " if (method, path) in conforming else ("srv" if (method, path) in served else "-- ")
            lines.append(f"  {mark} {method:6} {path}  {sorted({s for s, _ in calls})}")
            lines += [f"        {err}" for _, err in calls if err]
        return len(self.ops), len(served), len(conforming), lines


def wait_for(probe: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def engine_url() -> Any:
    with engine_in_thread() as handle:
        yield handle.url


def raw(method: str, url: str, **kw: Any) -> requests.Response:
    return requests.request(method, url, timeout=15, headers={**AUTH, **kw.pop("headers", {})}, **kw)


def drive_humanitec(h: Driver, base: str) -> None:
    o = "/orgs/{orgId}"
    a = o + "/apps/{appId}"
    p = a + "/pipelines/{pipelineId}"
    r = p + "/runs/{runId}"
    j = r + "/jobs/{jobId}"
    ids = {"orgId": ORG, "appId": APP}
    pid = {**ids, "pipelineId": GATE["id"]}
    yaml = "application/x-yaml"
    # pipelines
    h("GET", o + "/pipelines", params=ids, expect=200)
    h("GET", a + "/pipelines", params=ids, query={"per_page": 1}, expect=200)
    h("POST", a + "/pipelines", params=ids, body=GATE, media_type=yaml, query={"dry_run": "true"}, expect=204)
    created = h("POST", a + "/pipelines", params=ids, body=GATE, media_type=yaml, expect=201).json()
    got = h("GET", p, params=pid, expect=200)
    assert got.headers["etag"] == [got.json()["etag"]] and got.json()["etag"] == created["etag"]
    h("PATCH", p, params=pid, body={**GATE, "name": "Conformance gate 2"}, media_type=yaml,
      headers={"If-Match": created["etag"]}, expect=200)
    h("PATCH", p, params=pid, body={**GATE, "name": "stale"}, media_type=yaml,
      headers={"If-Match": created["etag"]}, expect=412)
    h("GET", p + "/versions", params=pid, expect=200)
    h("GET", p + "/schema", params=pid, expect=200)
    h("GET", p + "/batches/{batchType}", params={**pid, "batchType": "artefact"}, expect=200)
    h("GET", o + "/pipeline-schemas/latest", params=ids, expect=200)
    # criteria
    crit = h("POST", p + "/criteria", params=pid, body={"trigger": "deployment_request", "env_id": "conf-env"},
             expect=201).json()
    h("GET", a + "/pipeline-criteria", params=ids, expect=200)
    h("GET", p + "/criteria/{criteriaId}", params={**pid, "criteriaId": crit["id"]}, expect=200)
    # runs, jobs, logs, approvals
    runs = [h("POST", p + "/runs", params=pid, body={"inputs": {}}, expect=201).json() for _ in range(3)]
    by_trigger = h("POST", a + "/pipeline-runs", params=ids, expect=201,
                   body={"trigger": "deployment_request", "env_id": "conf-env", "delta_id": "d-1"}).json()
    assert by_trigger["pipeline_id"] == GATE["id"]
    runs.append(by_trigger)
    paged = h("GET", p + "/runs", params=pid, query={"per_page": 2}, expect=200)
    assert len(paged.json()) == 2 and 'rel="next"' in paged.headers["link"][0]
    h("GET", o + "/pipeline-runs", params=ids, expect=200)

    def approval(run: dict[str, Any]) -> dict[str, Any]:
        def probe() -> Any:
            found = h("GET", a + "/approvals", params=ids, query={"run": run["id"]}, expect=200).json()
            return [x for x in found if x["status"] == "waiting"]
        return wait_for(probe, "a waiting approval")[0]

    rid = {**pid, "runId": runs[0]["id"]}
    h("GET", r, params=rid, expect=200)
    h("GET", r + "/jobs", params=rid, expect=200)
    h("GET", r + "/jobs", params=rid, query={"page": "AAAAAAAAAA=="}, expect=200)  # the description's example
    h("GET", j, params={**rid, "jobId": "main"}, expect=200)
    first = approval(runs[0])
    aid = {**rid, "jobId": "main", "approvalId": first["id"]}
    h("GET", j + "/approvals/{approvalId}", params=aid, expect=200)
    h("POST", j + "/approvals/{approvalId}/approve", params=aid, expect=200)
    second = approval(runs[1])
    h("POST", j + "/approvals/{approvalId}/deny", expect=200,
      params={**pid, "runId": runs[1]["id"], "jobId": "main", "approvalId": second["id"]})
    h("GET", j + "/steps/{stepIndex}/logs", params={**rid, "jobId": "main", "stepIndex": 0}, expect=200)
    for run in runs[2:]:
        h("POST", r + "/cancel", params={**pid, "runId": run["id"]}, expect=204)

    def ended(run: dict[str, Any]) -> Any:
        got = h("GET", r, params={**pid, "runId": run["id"]}, expect=200).json()
        return got["status"] in ("succeeded", "failed", "cancelled") and got
    for run in runs:
        wait_for(lambda run=run: ended(run), "the run to end")
    h("POST", r + "/restart", params=rid, expect=201)
    h("DELETE", r, params={**pid, "runId": runs[1]["id"]}, expect=204)
    # documented client errors
    h("POST", p + "/runs", params=pid, body=b"\xff\xfe{", media_type="application/json", expect=400)
    h("POST", p + "/criteria", params=pid, body=b"\xff\xfe{", media_type="application/json", expect=400)
    h("PATCH", p, params=pid, body=b"\xff\xfe{", media_type=yaml, expect=400)
    h("GET", r, params={**pid, "runId": "not-a-run"}, expect=404)
    # webhooks and the event catalogue
    hook = {"id": "conf-hook", "url": "example.invalid/hook", "triggers": [{"scope": "pipeline", "type": "run"}]}
    created_hook = h("POST", a + "/webhooks", params=ids, body=hook, expect=(201, 400))
    if created_hook.status_code == 400:  # not a known trigger: take one from the catalogue
        events = h("GET", o + "/events", params=ids, expect=200).json()
        hook["triggers"] = [{"scope": events[0]["scope"], "type": events[0]["type"]}]
        h("POST", a + "/webhooks", params=ids, body=hook, expect=201)
    h("GET", o + "/events", params=ids, expect=200)
    h("GET", a + "/webhooks", params=ids, expect=200)
    wid = {**ids, "jobId": "conf-hook"}
    h("GET", a + "/webhooks/{jobId}", params=wid, expect=200)
    h("PATCH", a + "/webhooks/{jobId}", params=wid, body={"disabled": True}, expect=200)
    h("DELETE", a + "/webhooks/{jobId}", params=wid, expect=204)
    h("DELETE", a + "/jobs", params=ids, expect=204)
    # clean up: criteria, then the pipeline with its ended runs
    h("DELETE", p + "/criteria/{criteriaId}", params={**pid, "criteriaId": crit["id"]}, expect=204)
    restarted = [x for x in h("GET", p + "/runs", params=pid, expect=200).json() if x["status"] == "executing"]
    waiting = [approval(x) for x in restarted]
    for item in waiting:
        h("POST", j + "/approvals/{approvalId}/deny", expect=200, params={
            **pid, "runId": item["run_id"], "jobId": item["job_id"], "approvalId": item["id"]})
    for run in h("GET", p + "/runs", params=pid, expect=200).json():
        wait_for(lambda run=run: ended(run), "every run to end")
    h("DELETE", p, params=pid, expect=204)


def drive_inngest(i: Driver, base: str) -> None:
    # an event starts the `ci` pipeline (on: event demo/ci.requested)
    sent = raw("POST", f"{base}/e/conf-key", json={"name": "demo/ci.requested", "data": {"ref": "conf"}}).json()
    event_id = sent["ids"][0]
    i("GET", "/v1/events", query={"limit": 10}, expect=200)
    got = i("GET", "/v1/events/{internalID}", params={"internalID": event_id}, expect=200).json()["data"]
    assert got["source"] == "key" and got["accountID"] and got["environmentID"] and got["sourceID"]
    runs = i("GET", "/v1/events/{internalID}/runs", params={"internalID": event_id}, expect=200).json()["data"]
    run_id = runs[0]["run_id"]
    assert i("GET", "/v1/runs/{runID}", params={"runID": run_id}, expect=200).json()["data"]["status"] == "Running"
    i("GET", "/v1/runs/{runID}/jobs", params={"runID": run_id}, expect=200)
    i("DELETE", "/v1/runs/{runID}", params={"runID": run_id}, expect=200)
    wait_for(lambda: i("GET", "/v1/runs/{runID}", params={"runID": run_id}).json()["data"]["status"] == "Cancelled",
             "the cancelled run")
    i("DELETE", "/v1/runs/{runID}", params={"runID": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, expect=204)
    i("GET", "/v1/runs/{runID}", params={"runID": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, expect=404)
    # a signal resumes a run waiting for approval (the `release` pipeline's gate)
    started = raw("POST", f"{base}/orgs/{ORG}/apps/{APP}/pipelines/release/runs",
                  json={"inputs": {"env_id": "conf-signal"}}).json()
    from naftiko_runtime.engine.ids import run_ulid
    ulid = run_ulid(started["id"])
    wait_for(lambda: raw("GET", f"{base}/orgs/{ORG}/apps/{APP}/approvals",
                         params={"run": started["id"], "status": "waiting"}).json(), "the release approval")
    resumed = i("POST", "/v1/signals", body={"signal": ulid, "data": {"approved": True}}, expect=200).json()
    assert resumed == {"run_id": ulid}
    assert "error" in i("POST", "/v1/signals", body={"signal": "nobody-waits", "data": {}}, expect=200).json()
    # a cancellation cancels the matching runs
    target = raw("POST", f"{base}/orgs/{ORG}/apps/{APP}/pipelines/release/runs",
                 json={"inputs": {"env_id": "conf-cancel"}}).json()
    future = "2999-01-01T00:00:00Z"
    made = i("POST", "/v1/cancellations", expect=200,
             body={"app_id": APP, "function_id": "release", "started_before": future}).json()["data"]
    wait_for(lambda: raw("GET", f"{base}/orgs/{ORG}/apps/{APP}/pipelines/release/runs/{target['id']}").json()
             ["status"] == "cancelled", "the run the cancellation covers")
    listed = i("GET", "/v1/cancellations", expect=200).json()["data"]
    assert [c["id"] for c in listed] == [made["id"]]
    i("DELETE", "/v1/cancellations/{id}", params={"id": made["id"]}, expect=200)
    assert i("GET", "/v1/cancellations", expect=200).json()["data"] == []
    # a webhook receives requests and turns them into events
    hook = i("POST", "/v1/webhooks", body={"data": {"name": "Conf", "transform": "function transform(e) { return e }"}},
             expect=200).json()["data"]
    delivered = requests.post(hook["url"], json={"name": "demo/ci.requested", "data": {"ref": "via-hook"}}, timeout=15)
    assert delivered.status_code == 200
    seen = i("GET", "/v1/events", query={"name": "demo/ci.requested"}, expect=200).json()["data"]
    assert seen[0]["data"] == {"ref": "via-hook"} and seen[0]["source"] == "webhook"
    i("GET", "/v1/webhooks", expect=200)
    i("GET", "/v1/webhooks/{id}", params={"id": hook["id"]}, expect=200)
    i("PUT", "/v1/webhooks/{id}", params={"id": hook["id"]}, body={"name": "Conf 2"}, media_type="application/json",
      expect=200)
    assert i("DELETE", "/v1/webhooks/{id}", params={"id": hook["id"]}, expect=200).json() == {"data": {"id": hook["id"]}}
    assert "error" in i("GET", "/v1/webhooks/{id}", params={"id": hook["id"]}, expect=200).json()


def test_every_operation_is_served_and_conforms(engine_url: str) -> None:
    humanitec = Driver(load(HUMANITEC_DOC), engine_url, HUMANITEC_TAGS)
    inngest = Driver(load(INNGEST_DOC), engine_url, None)
    drive_humanitec(humanitec, engine_url)
    drive_inngest(inngest, engine_url)
    rows = [humanitec.table("Humanitec (humanitec-openapi.json, tags Pipelines, PipelineRuns, PipelineApprovals, "
                            "Event)"), inngest.table("Inngest REST v1 (inngest-api-v1.yaml)")]
    print("\n" + "\n".join(line for row in rows for line in row[3]))
    assert [(total, served, conforming) for total, served, conforming, _ in rows] == [(36, 36, 36), (15, 15, 15)]


def test_seed_001_requires_a_bearer_token(engine_url: str) -> None:
    no_token = requests.get(f"{engine_url}/api/v1/pipelines", timeout=15)
    assert no_token.status_code == 401 and no_token.headers["WWW-Authenticate"].startswith("Bearer ")
    assert no_token.json()["statusCode"] == 401
    malformed = requests.get(f"{engine_url}/api/v1/pipelines", headers={"Authorization": "Basic eDp5"}, timeout=15)
    assert malformed.status_code == 401 and 'error="invalid_token"' in malformed.headers["WWW-Authenticate"]
    bare = requests.get(f"{engine_url}/api/v1/pipelines", headers={"Authorization": "Bearer"}, timeout=15)
    assert bare.status_code == 401  # no token at all is not a well-formed bearer token
    assert requests.get(f"{engine_url}/api/v1/pipelines", headers=AUTH, timeout=15).status_code == 200
