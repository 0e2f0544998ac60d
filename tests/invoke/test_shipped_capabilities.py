"""Every operation and tool of the three seed-generated capability files (tests/support/seeded), against a recording upstream.

Each case states, by hand, what the upstream must receive (method, raw path, query,
headers, body) for one incoming call, and checks the mapped answer (`mapping: $.`
passes the upstream JSON through). A coverage test makes sure no exposed operation
or tool of the files is missing from the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from naftiko_runtime.binding.incoming import Incoming

from .conftest import SEEDED_DIR, load_capability
from .helpers import (
    all_actions,
    mcp_incoming,
    rest_action,
    rest_incoming,
    sent_headers,
    tool,
)

INNGEST = "inngest-runs.yaml"
EVENT = "humanitec-event.yaml"
RUNS = "humanitec-pipelineruns.yaml"

ENV = {"INNGEST_API_KEY": "ink-secret-123", "HUMANITEC_API_KEY": "hum-secret-456"}
BEARER = {"authorization": "Bearer ink-secret-123"}
JSON_BODY = {"content-type": "application/json"}

WEBHOOK = {"id": "wh-1", "url": "https://hooks.example.com/x", "events": ["deployment.started"], "disabled": False}
RUN_BODY = {"trigger": "pipeline_call", "inputs": {"n": 3, "tag": "a \"quoted\" value"}}


@dataclass
class Case:
    file: str
    action: str  # "REST METHOD /exposed/path" or "MCP tool-name"
    incoming: Incoming
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # JSON value expected upstream; None means no body


O, A, P, R, J = "org-1", "app-1", "pipe-1", "run-1", "job-1"  # noqa: E741 -- the ids read as the path letters
EV = {"orgid": O, "appid": A}
PR = {"orgid": O, "appid": A, "pipelineid": P}
PRR = {**PR, "runid": R}
TOOL = {"orgId": O, "appId": A}
TOOLR = {"orgId": O, "appId": A, "pipelineId": P, "runId": R}
BASE_RUN = f"/orgs/{O}/apps/{A}/pipelines/{P}/runs"

CASES = [
    # -- inngest-runs: bearer token from the bind {{env.INNGEST_API_KEY}} ------------------
    Case(INNGEST, "REST GET /v1/v1/runs/{runid}", rest_incoming({"runid": R}), "GET", f"/v1/runs/{R}", headers=BEARER),
    Case(INNGEST, "REST POST /v1/v1/runs/{runid}/cancel", rest_incoming({"runid": R}), "POST", f"/v1/runs/{R}/cancel", headers=BEARER),
    Case(INNGEST, "REST GET /v1/v1/runs/{runid}/jobs", rest_incoming({"runid": R}), "GET", f"/v1/runs/{R}/jobs", headers=BEARER),
    Case(INNGEST, "MCP get-function-run-status", mcp_incoming({"runId": R}), "GET", f"/v1/runs/{R}", headers=BEARER),
    Case(INNGEST, "MCP cancel-function-run", mcp_incoming({"runId": R}), "POST", f"/v1/runs/{R}/cancel", headers=BEARER),
    Case(INNGEST, "MCP list-jobs-steps-run", mcp_incoming({"runId": R}), "GET", f"/v1/runs/{R}/jobs", headers=BEARER),
    # -- humanitec-event: binds declared but no authentication block => no credentials ----
    Case(EVENT, "REST DELETE /v1/orgs/{orgid}/apps/{appid}/jobs", rest_incoming(EV), "DELETE", f"/orgs/{O}/apps/{A}/jobs"),
    Case(EVENT, "REST GET /v1/orgs/{orgid}/apps/{appid}/webhooks", rest_incoming(EV), "GET", f"/orgs/{O}/apps/{A}/webhooks"),
    Case(EVENT, "REST POST /v1/orgs/{orgid}/apps/{appid}/webhooks", rest_incoming(EV, body=WEBHOOK), "POST",
         f"/orgs/{O}/apps/{A}/webhooks", headers=JSON_BODY, body=WEBHOOK),
    Case(EVENT, "REST GET /v1/orgs/{orgid}/apps/{appid}/webhooks/{jobid}", rest_incoming({**EV, "jobid": J}), "GET",
         f"/orgs/{O}/apps/{A}/webhooks/{J}"),
    Case(EVENT, "REST DELETE /v1/orgs/{orgid}/apps/{appid}/webhooks/{jobid}", rest_incoming({**EV, "jobid": J}), "DELETE",
         f"/orgs/{O}/apps/{A}/webhooks/{J}"),
    Case(EVENT, "REST PATCH /v1/orgs/{orgid}/apps/{appid}/webhooks/{jobid}", rest_incoming({**EV, "jobid": J}, body={"disabled": True}),
         "PATCH", f"/orgs/{O}/apps/{A}/webhooks/{J}", headers=JSON_BODY, body={"disabled": True}),
    Case(EVENT, "REST GET /v1/orgs/{orgid}/events", rest_incoming({"orgid": O}), "GET", f"/orgs/{O}/events"),
    Case(EVENT, "MCP deletes-all-jobs-application", mcp_incoming(TOOL), "DELETE", f"/orgs/{O}/apps/{A}/jobs"),
    Case(EVENT, "MCP list-webhooks", mcp_incoming(TOOL), "GET", f"/orgs/{O}/apps/{A}/webhooks"),
    Case(EVENT, "MCP create-new-webhook", mcp_incoming({**TOOL, "body": WEBHOOK}), "POST", f"/orgs/{O}/apps/{A}/webhooks",
         headers=JSON_BODY, body=WEBHOOK),
    Case(EVENT, "MCP get-webhook", mcp_incoming({**TOOL, "jobId": J}), "GET", f"/orgs/{O}/apps/{A}/webhooks/{J}"),
    Case(EVENT, "MCP delete-webhook", mcp_incoming({**TOOL, "jobId": J}), "DELETE", f"/orgs/{O}/apps/{A}/webhooks/{J}"),
    Case(EVENT, "MCP update-webhook", mcp_incoming({**TOOL, "jobId": J, "body": {"disabled": True}}), "PATCH",
         f"/orgs/{O}/apps/{A}/webhooks/{J}", headers=JSON_BODY, body={"disabled": True}),
    Case(EVENT, "MCP list-events", mcp_incoming({"orgId": O}), "GET", f"/orgs/{O}/events"),
    # -- humanitec-pipelineruns ------------------------------------------------------------
    Case(RUNS, "REST POST /v1/orgs/{orgid}/apps/{appid}/pipeline-runs",
         rest_incoming(EV, query=[("dry_run", "true")], body=RUN_BODY), "POST", f"/orgs/{O}/apps/{A}/pipeline-runs",
         query=[("dry_run", "true")], headers=JSON_BODY, body=RUN_BODY),
    Case(RUNS, "REST GET /v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs",
         rest_incoming(PR, query=[("per_page", "10")]), "GET", BASE_RUN, query=[("per_page", "10")]),
    Case(RUNS, "REST POST /v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs", rest_incoming(PR, body=RUN_BODY),
         "POST", BASE_RUN, headers=JSON_BODY, body=RUN_BODY),
    Case(RUNS, "REST GET /v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs/{runid}", rest_incoming(PRR), "GET", f"{BASE_RUN}/{R}"),
    Case(RUNS, "REST DELETE /v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs/{runid}", rest_incoming(PRR), "DELETE",
         f"{BASE_RUN}/{R}"),
    Case(RUNS, "REST POST /v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs/{runid}/cancel", rest_incoming(PRR), "POST",
         f"{BASE_RUN}/{R}/cancel"),
    Case(RUNS, "REST GET /v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs/{runid}/jobs", rest_incoming(PRR), "GET",
         f"{BASE_RUN}/{R}/jobs"),
    Case(RUNS, "REST GET /v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs/{runid}/jobs/{jobid}",
         rest_incoming({**PRR, "jobid": J}), "GET", f"{BASE_RUN}/{R}/jobs/{J}"),
    Case(RUNS, "REST GET /v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs/{runid}/jobs/{jobid}/steps/{stepindex}/logs",
         rest_incoming({**PRR, "jobid": J, "stepindex": "2"}, query=[("page", "abc")]), "GET",
         f"{BASE_RUN}/{R}/jobs/{J}/steps/2/logs", query=[("page", "abc")]),
    Case(RUNS, "REST POST /v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs/{runid}/restart", rest_incoming(PRR), "POST",
         f"{BASE_RUN}/{R}/restart"),
    Case(RUNS, "REST GET /v1/orgs/{orgid}/pipeline-runs", rest_incoming({"orgid": O}, query=[("app", A), ("status", "running")]),
         "GET", f"/orgs/{O}/pipeline-runs", query=[("app", A), ("status", "running")]),
    Case(RUNS, "MCP create-pipeline-run-appropriate-pipeline", mcp_incoming({**TOOL, "dry_run": True, "body": RUN_BODY}), "POST",
         f"/orgs/{O}/apps/{A}/pipeline-runs", query=[("dry_run", "true")], headers=JSON_BODY, body=RUN_BODY),
    Case(RUNS, "MCP list-runs-within-pipeline-ordered", mcp_incoming({**TOOL, "pipelineId": P}), "GET", BASE_RUN),
    Case(RUNS, "MCP create-run-within-pipeline", mcp_incoming({**TOOL, "pipelineId": P, "body": RUN_BODY}), "POST", BASE_RUN,
         headers=JSON_BODY, body=RUN_BODY),
    Case(RUNS, "MCP get-run-within-pipeline", mcp_incoming(TOOLR), "GET", f"{BASE_RUN}/{R}"),
    Case(RUNS, "MCP deleting-completed-run-within-pipeline", mcp_incoming(TOOLR), "DELETE", f"{BASE_RUN}/{R}"),
    Case(RUNS, "MCP cancel-run-within-pipeline", mcp_incoming(TOOLR), "POST", f"{BASE_RUN}/{R}/cancel"),
    Case(RUNS, "MCP list-details-jobs-within-pipeline", mcp_incoming(TOOLR), "GET", f"{BASE_RUN}/{R}/jobs"),
    Case(RUNS, "MCP list-details-job-including-step", mcp_incoming({**TOOLR, "jobId": J}), "GET", f"{BASE_RUN}/{R}/jobs/{J}"),
    Case(RUNS, "MCP get-page-log-output-given", mcp_incoming({**TOOLR, "jobId": J, "stepIndex": 2}), "GET",
         f"{BASE_RUN}/{R}/jobs/{J}/steps/2/logs"),
    Case(RUNS, "MCP restart-run-within-pipeline-cloning", mcp_incoming(TOOLR), "POST", f"{BASE_RUN}/{R}/restart"),
    Case(RUNS, "MCP list-all-pipeline-runs-within", mcp_incoming({"orgId": O}), "GET", f"/orgs/{O}/pipeline-runs"),
]


def _find(cap: Any, action_id: str) -> Any:
    kind, _, rest = action_id.partition(" ")
    if kind == "MCP":
        return tool(cap, rest)
    method, _, path = rest.partition(" ")
    return rest_action(cap, method, path)


@pytest.mark.parametrize("file", [INNGEST, EVENT, RUNS])
def test_every_exposed_operation_has_a_case(file: str) -> None:
    cap = load_capability(SEEDED_DIR / file)
    declared = {name for name, _ in all_actions(cap)}
    covered = {c.action for c in CASES if c.file == file}
    assert declared == covered


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file.removesuffix('.yaml')}:{c.action}" for c in CASES])
async def test_upstream_receives_exact_request_and_answer_is_mapped(case: Case, upstream: Any, make_invoker: Any) -> None:
    from ..support.recording_upstream import reply

    answer = {"served": f"{case.method} {case.path}", "items": [{"id": 1}, {"id": 2}], "note": None}
    upstream.route(case.method, case.path, reply(200, json=answer, headers={"ETag": '"v1"'}))
    cap = load_capability(SEEDED_DIR / case.file)
    invoker = make_invoker(cap, env=ENV)

    outcome = await invoker.invoke(_find(cap, case.action), case.incoming)

    assert len(upstream.requests) == 1, [r.target for r in upstream.requests]
    [seen] = upstream.requests
    assert (seen.method, seen.raw_path) == (case.method, case.path)
    assert seen.query == case.query
    assert sent_headers(seen) == case.headers
    if case.body is None:
        assert seen.body == b""
    else:
        assert json.loads(seen.body) == case.body
    assert outcome.status == 200
    assert outcome.data == answer
    assert outcome.headers.get("ETag") == '"v1"'
    call = _find(cap, case.action).call
    assert outcome.upstream == f"{call.operation.namespace}.{call.operation.name}"


@pytest.mark.parametrize("case", [c for c in CASES if c.action.startswith("REST")][:3] + [CASES[8]],
                         ids=lambda c: c.action)
async def test_callers_authorization_is_never_relayed(case: Case, upstream: Any, make_invoker: Any) -> None:
    """The caller's own credentials stay with us, with or without a consumes authentication block."""
    from ..support.recording_upstream import reply

    upstream.route(case.method, case.path, reply(json={}))
    cap = load_capability(SEEDED_DIR / case.file)
    incoming = replace(case.incoming, headers={"Authorization": "Bearer caller-token", "Cookie": "session=caller"})
    await make_invoker(cap, env=ENV).invoke(_find(cap, case.action), incoming)
    [seen] = upstream.requests
    assert "caller-token" not in seen.headers.get("Authorization", "")
    assert "Cookie" not in seen.headers
    assert seen.headers.get("Authorization") == case.headers.get("authorization")


async def test_missing_bind_sends_no_credential_value(upstream: Any, make_invoker: Any) -> None:
    """Without INNGEST_API_KEY the bind is unresolved; nothing secret (or literal template) goes out."""
    from ..support.recording_upstream import reply

    upstream.route("GET", f"/v1/runs/{R}", reply(json={}))
    cap = load_capability(SEEDED_DIR / INNGEST)
    await make_invoker(cap, env={}).invoke(tool(cap, "get-function-run-status"), mcp_incoming({"runId": R}))
    [seen] = upstream.requests
    assert "{{" not in seen.headers.get("Authorization", "")
