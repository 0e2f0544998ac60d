"""What a caller sends reaches the upstream as sent or is refused with 400 (issue 20, request side).

Each test drives a real server (REST on an aiohttp test server, MCP on uvicorn) in front of a
recording upstream, and asserts what the upstream saw.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import INNGEST, PIPELINERUNS

RUN = "/v1/orgs/demo-org/apps/demo-app/pipelines/ci/runs/run-1"
UPSTREAM_RUN = "/orgs/demo-org/apps/demo-app/pipelines/ci/runs/run-1"


# -- 1. a query parameter never replaces a routed path value ---------------------------------------


@pytest.mark.parametrize("query", [
    "runId=run-2&orgId=other-org",
    "ORGID=other-org&RUNID=run-2",
    "appId=other-app&pipelineId=cd",
    "orgid=other-org&runid=run-2",
])
async def test_query_never_replaces_a_path_value(query: str, rest: Any, upstream: RecordingUpstream) -> None:
    upstream.route("DELETE", UPSTREAM_RUN, reply(204))
    client = await rest(PIPELINERUNS)
    response = await client.delete(f"{RUN}?{query}")
    assert response.status == 204, await response.text()
    [seen] = upstream.requests
    assert seen.method == "DELETE" and seen.raw_path == UPSTREAM_RUN


async def test_query_never_replaces_a_step_index(rest: Any, upstream: RecordingUpstream) -> None:
    logs = f"{UPSTREAM_RUN}/jobs/job-1/steps/0/logs"
    upstream.route("GET", logs, reply(json=[]))
    client = await rest(PIPELINERUNS)
    response = await client.get(f"{RUN}/jobs/job-1/steps/0/logs?stepIndex=7&StepIndex=8&jobId=job-9")
    assert response.status == 200, await response.text()
    assert [r.raw_path for r in upstream.requests] == [logs]


async def test_inngest_run_id_comes_from_the_path(rest: Any, upstream: RecordingUpstream) -> None:
    upstream.route("POST", "/v1/runs/run-1/cancel", reply(json={}))
    client = await rest(INNGEST)
    response = await client.post("/v1/v1/runs/run-1/cancel?runId=run-2&RUNID=run-3")
    assert response.status == 200, await response.text()
    assert [r.raw_path for r in upstream.requests] == ["/v1/runs/run-1/cancel"]
    assert "run-2" not in upstream.requests[0].query_string


DECLARED = """\
naftiko: 1.0.0-alpha2
info: {label: Declared, description: A declared query input named like a path variable.}
capability:
  consumes:
  - type: http
    namespace: runs
    baseUri: http://127.0.0.1:9
    resources:
    - name: run
      path: /runs/{{runId}}
      operations:
      - name: get-run
        method: GET
        inputParameters:
        - {name: runId, in: path, required: true}
        - {name: view, in: query}
  exposes:
  - type: rest
    namespace: declared
    port: 8080
    resources:
    - path: /runs/{runid}
      operations:
      - method: GET
        name: get-run
        inputParameters:
        - {name: runid, in: path, type: string, description: The run.}
        - {name: runId, in: query, type: string, description: A separate value of the same name.}
        - {name: view, in: query, type: string, description: A view.}
        call: runs.get-run
        with:
          view: "{{runId}}"
"""


async def test_a_declared_query_input_of_that_name_is_a_separate_value(tmp_path: Any, rest: Any, upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/runs/run-1", reply(json={}))
    file = tmp_path / "declared.yaml"
    file.write_text(DECLARED)
    client = await rest(file)
    response = await client.get("/runs/run-1?runId=run-2")
    assert response.status == 200, await response.text()
    [seen] = upstream.requests
    assert seen.raw_path == "/runs/run-1"
    assert seen.query == [("view", "run-2")]


async def test_an_mcp_argument_stays_one_path_segment(mcp: Any, upstream: RecordingUpstream) -> None:
    url = await mcp(INNGEST)
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "cancel-function-run", "arguments": {"runId": "run-1/../../admin?x=1"}}}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=call, headers={"Accept": "application/json, text/event-stream"}) as response:
            assert response.status == 200, await response.text()
    [seen] = upstream.requests
    assert seen.raw_path == "/v1/runs/run-1%2F..%2F..%2Fadmin%3Fx%3D1/cancel" and seen.query_string == ""
