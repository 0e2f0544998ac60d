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
        - {name: ratio, in: query}
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
        - {name: ratio, in: query, type: number, description: A number.}
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
    headers = {"Accept": "application/json, text/event-stream"}
    async with aiohttp.ClientSession() as session, session.post(url, json=call, headers=headers) as response:
        assert response.status == 200, await response.text()
    [seen] = upstream.requests
    assert seen.raw_path == "/v1/runs/run-1%2F..%2F..%2Fadmin%3Fx%3D1/cancel" and seen.query_string == ""


@pytest.mark.parametrize("ratio", ["1e999", "-1E400", "NaN", "Infinity"])
async def test_a_declared_number_that_is_no_json_number_is_refused(ratio: str, tmp_path: Any, rest: Any, upstream: RecordingUpstream) -> None:
    file = tmp_path / "declared.yaml"
    file.write_text(DECLARED)
    client = await rest(file)
    response = await client.get(f"/runs/run-1?ratio={ratio}")
    assert response.status == 400, await response.text()
    assert (await response.json())["parameter"] == "ratio"
    assert upstream.requests == []


# -- 2/3. bodies: bounded nesting, exact integers, nothing that is not JSON ----------------------

RUNS = "/v1/orgs/demo-org/apps/demo-app/pipelines/ci/runs"
UPSTREAM_RUNS = "/orgs/demo-org/apps/demo-app/pipelines/ci/runs"
DEEP = b"[" * 1100 + b"]" * 1100


@pytest.mark.parametrize("body", [DEEP, b'{"inputs": ' + DEEP + b"}", b'{"inputs": {"n": NaN}}', b'{"n": Infinity}',
                                  b'{"n": -Infinity}', b'{"n": 1e999}', b'{"n": -1e999}', b"[1e400]"])
async def test_a_body_that_is_not_strict_json_is_refused(body: bytes, rest: Any, upstream: RecordingUpstream) -> None:
    upstream.route("POST", UPSTREAM_RUNS, reply(201, json={}))
    client = await rest(PIPELINERUNS)
    response = await client.post(RUNS, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400, await response.text()
    answer = await response.json()
    assert answer["error"] == "invalid_input" and answer["parameter"] == "body" and "not valid JSON" in answer["message"]
    assert upstream.requests == []


@pytest.mark.parametrize("number", ["123456789012345678901234567890", "18446744073709551616", "-9223372036854775809",
                                    "-123456789012345678901234567890123456789", "9007199254740993"])
async def test_integers_reach_the_upstream_exactly(number: str, rest: Any, upstream: RecordingUpstream) -> None:
    upstream.route("POST", UPSTREAM_RUNS, reply(201, json={}))
    client = await rest(PIPELINERUNS)
    body = f'{{"inputs": {{"n": {number}, "list": [{number}, 1.5]}}}}'
    response = await client.post(RUNS, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 201, await response.text()
    [seen] = upstream.requests
    assert f'"n":{number}' in seen.body.decode().replace(" ", "")
    assert seen.json == {"inputs": {"n": int(number), "list": [int(number), 1.5]}}


@pytest.mark.parametrize("query", ["dry_run=%ff", "x=%ff", "x=a%C3", "%ff=1"])
async def test_undecodable_query_bytes_are_refused(query: str, rest: Any, upstream: RecordingUpstream) -> None:
    upstream.route("GET", UPSTREAM_RUNS, reply(json=[]))
    client = await rest(PIPELINERUNS)
    response = await client.get(f"{RUNS}?{query}")
    assert response.status == 400, await response.text()
    answer = await response.json()
    assert answer["error"] == "invalid_input" and "UTF-8" in answer["message"]
    assert upstream.requests == []


async def test_a_utf8_query_is_relayed(rest: Any, upstream: RecordingUpstream) -> None:
    upstream.route("GET", UPSTREAM_RUNS, reply(json=[]))
    client = await rest(PIPELINERUNS)
    response = await client.get(f"{RUNS}?env=caf%C3%A9")  # a declared filter (undeclared ones are not relayed)
    assert response.status == 200, await response.text()
    [seen] = upstream.requests
    assert seen.query == [("env", "café")]


async def test_undecodable_path_bytes_are_refused(rest: Any, upstream: RecordingUpstream) -> None:
    client = await rest(PIPELINERUNS)
    response = await client.delete("/v1/orgs/demo-org/apps/demo-app/pipelines/ci/runs/run%ff")
    assert response.status == 400, await response.text()
    assert upstream.requests == []


async def mcp_post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    hdrs = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **(headers or {})}
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=hdrs) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


def tool_call(arguments: str, request_id: str = "1") -> bytes:
    return (f'{{"jsonrpc": "2.0", "id": {request_id}, "method": "tools/call", '
            f'"params": {{"name": "cancel-function-run", "arguments": {arguments}}}}}').encode()


@pytest.mark.parametrize("arguments", ['{"runId": "r", "n": NaN}', '{"runId": "r", "n": 1e999}', '{"runId": ' + "[" * 1100 + "]" * 1100 + "}"])
async def test_mcp_refuses_what_is_not_json(arguments: str, mcp: Any, upstream: RecordingUpstream) -> None:
    url = await mcp(INNGEST)
    status, answer = await mcp_post(url, tool_call(arguments))
    assert status == 400 and answer["error"]["code"] == -32700, answer
    assert upstream.requests == []


@pytest.mark.parametrize("request_id", ["null", "1.5", '{"a": 1}', "[1]", "true"])
async def test_mcp_request_with_an_invalid_id_is_an_invalid_request(request_id: str, mcp: Any, upstream: RecordingUpstream) -> None:
    url = await mcp(INNGEST)
    status, answer = await mcp_post(url, tool_call('{"runId": "r"}', request_id))
    assert status == 400 and answer["error"]["code"] == -32600 and answer["id"] is None, answer
    assert upstream.requests == []


async def test_mcp_unknown_protocol_version_names_the_supported_ones(mcp: Any) -> None:
    url = await mcp(INNGEST)
    status, answer = await mcp_post(url, tool_call('{"runId": "r"}'), {"MCP-Protocol-Version": "1999-01-01"})
    assert status == 400, answer
    assert "1999-01-01" in answer["error"]["message"] and "2025-11-25" in answer["error"]["message"]
    assert "_meta" not in answer["error"]["message"]


# -- 11. two Host headers, request ids ------------------------------------------------------------


async def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode("latin-1").replace(b"\n", b"\r\n") + b"\r\n" + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()
    status = int(data.split(b" ", 2)[1])
    return status, data


async def test_rest_refuses_two_host_headers(rest: Any, upstream: RecordingUpstream) -> None:
    upstream.route("GET", UPSTREAM_RUN, reply(json={}))
    client = await rest(PIPELINERUNS)
    head = f"GET {RUN} HTTP/1.1\nHost: 127.0.0.1\nHost: evil.example\nConnection: close\n"
    status, _ = await raw_request(client.port, head)
    assert status == 400
    assert upstream.requests == []


async def test_mcp_refuses_two_host_headers(mcp: Any, upstream: RecordingUpstream) -> None:
    url = await mcp(INNGEST)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    body = tool_call('{"runId": "r"}')
    head = (f"POST /mcp HTTP/1.1\nHost: 127.0.0.1:{port}\nHost: evil.example\nContent-Type: application/json\n"
            f"Accept: application/json, text/event-stream\nContent-Length: {len(body)}\nConnection: close\n")
    status, _ = await raw_request(port, head, body)
    assert status == 400
    assert upstream.requests == []


async def test_a_non_ascii_request_id_is_kept_the_same_way_on_rest_and_mcp(
    rest: Any, mcp: Any, upstream: RecordingUpstream, captured: Any
) -> None:
    buffer = captured("text")
    upstream.route("GET", UPSTREAM_RUN, reply(json={}))
    upstream.route("POST", "/v1/runs/r/cancel", reply(json={}))
    client = await rest(PIPELINERUNS)
    url = await mcp(INNGEST)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    raw_id = "req-caf\u00e9-\u2603".encode()
    head = f"GET {RUN} HTTP/1.1\nHost: 127.0.0.1\nX-Request-Id: ".encode() + raw_id + b"\nConnection: close\n"
    status, data = await raw_request(client.port, head.decode("latin-1"))
    assert status == 200
    body = tool_call('{"runId": "r"}')
    head = (f"POST /mcp HTTP/1.1\nHost: 127.0.0.1:{port}\nContent-Type: application/json\nAccept: application/json\n"
            f"Content-Length: {len(body)}\nConnection: close\nX-Request-Id: ").encode() + raw_id + b"\n"
    status, mcp_data = await raw_request(port, head.decode("latin-1"), body)
    assert status == 200
    expected = "req-caf%C3%A9-%E2%98%83"
    assert f"X-Request-Id: {expected}".lower().encode() in data.lower()
    assert f"X-Request-Id: {expected}".lower().encode() in mcp_data.lower()
    assert [r.headers.get("X-Request-Id") for r in upstream.requests] == [expected, expected]
    logged = [line for line in buffer.getvalue().splitlines() if f"request_id={expected}" in line]
    assert [" request " in line or " tool call " in line for line in logged] == [True, True], buffer.getvalue()
