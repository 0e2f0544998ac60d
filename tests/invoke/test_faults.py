"""Upstream faults: each answers a clear status and a JSON body {error, message, upstream}."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from naftiko_runtime.invoke.client import UpstreamSettings
from naftiko_runtime.invoke.errors import InvokeError

from ..conftest import HTTP_CLIENTS
from ..support.recording_upstream import (
    close_connection,
    digest_protected,
    endless_body,
    hang,
    reply,
)
from .conftest import FAST, SEEDED_DIR, load_capability
from .helpers import mcp_incoming, tool

INNGEST = SEEDED_DIR / "inngest-runs.yaml"
ENV = {"INNGEST_API_KEY": "k"}
GET_RUN = ("get-function-run-status", "GET", "/v1/runs/r1")
CANCEL_RUN = ("cancel-function-run", "POST", "/v1/runs/r1/cancel")

@pytest.fixture(params=HTTP_CLIENTS)
def http_client(request: pytest.FixtureRequest) -> str:
    """Overrides the suite's aiohttp-only fixture: every fault, over either upstream client."""
    return str(request.param)


def assert_error_body(exc: InvokeError, status: int, error: str, upstream: str) -> None:
    assert exc.status == status
    body = exc.as_json()
    assert set(body) == {"error", "message", "upstream"}
    assert body["error"] == error
    assert body["upstream"] == upstream
    assert isinstance(body["message"], str) and body["message"]


async def invoke(make_invoker: Any, name: str, **kwargs: Any) -> Any:
    cap = load_capability(INNGEST)
    return await make_invoker(cap, env=ENV, **kwargs).invoke(tool(cap, name), mcp_incoming({"runId": "r1"}))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("name, attempts", [("get-function-run-status", 3), ("cancel-function-run", 1)])
async def test_unreachable_upstream_is_502(name: str, attempts: int, make_invoker: Any) -> None:
    with pytest.raises(InvokeError) as caught:
        await invoke(make_invoker, name, base=f"http://127.0.0.1:{closed_port()}")
    op = "getrun" if name.startswith("get") else "cancelrun"
    assert_error_body(caught.value, 502, "upstream_unreachable", f"inngest-runs.{op}")
    assert caught.value.attempts == attempts  # type: ignore[attr-defined]


async def test_hanging_upstream_times_out_with_504(upstream: Any, make_invoker: Any) -> None:
    upstream.route("GET", "/v1/runs/r1", hang())
    settings = UpstreamSettings(connect_timeout=1.0, total_timeout=0.3, retries=2, backoff=0.001)
    started = time.monotonic()
    with pytest.raises(InvokeError) as caught:
        await invoke(make_invoker, "get-function-run-status", settings=settings)
    assert time.monotonic() - started < 3.0
    assert_error_body(caught.value, 504, "upstream_timeout", "inngest-runs.getrun")
    assert "0.3" in caught.value.message
    assert len(upstream.requests) == 1  # a timeout is not retried: the upstream may still be working


@pytest.mark.parametrize(
    "garbage",
    [b"<html><body>Bad gateway</body></html>", b'{"id": "r1", ', b"\xff\xfe\x00garbage"],
    ids=["html", "truncated-json", "binary"],
)
async def test_garbage_where_json_is_expected_is_502(garbage: bytes, upstream: Any, make_invoker: Any) -> None:
    upstream.route("GET", "/v1/runs/r1", reply(200, body=garbage, content_type="application/json"))
    with pytest.raises(InvokeError) as caught:
        await invoke(make_invoker, "get-function-run-status")
    assert_error_body(caught.value, 502, "upstream_bad_body", "inngest-runs.getrun")


async def test_garbage_error_body_keeps_the_upstream_status(upstream: Any, make_invoker: Any) -> None:
    """An HTML error page on a 500 is not a mapping failure: the caller sees the 500 and its text."""
    upstream.route("POST", "/v1/runs/r1/cancel", reply(500, body="<h1>Internal oops</h1>", content_type="text/html"))
    outcome = await invoke(make_invoker, "cancel-function-run")
    assert outcome.status == 500 and outcome.is_error
    assert "Internal oops" in (outcome.message or "")


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
async def test_oversized_body_is_refused_without_buffering_it(declared: bool, upstream: Any, make_invoker: Any) -> None:
    """The upstream would stream forever (or announce 1 GB); we stop at the limit and answer 502."""
    limit = 256 * 1024
    upstream.route("GET", "/v1/runs/r1", endless_body(content_length=1024**3 if declared else None))
    settings = UpstreamSettings(total_timeout=10.0, retries=0, max_body=limit)
    with pytest.raises(InvokeError) as caught:
        await invoke(make_invoker, "get-function-run-status", settings=settings)
    assert_error_body(caught.value, 502, "upstream_too_large", "inngest-runs.getrun")
    assert str(limit) in caught.value.message
    # Whatever the server managed to push into socket buffers, it is nowhere near the gigabyte.
    assert upstream.streamed_bytes < 64 * 1024 * 1024


async def test_body_exactly_at_the_limit_is_accepted(upstream: Any, make_invoker: Any) -> None:
    payload = b'{"pad": "' + b"x" * 990 + b'"}'
    upstream.route("GET", "/v1/runs/r1", reply(json=None, body=payload, content_type="application/json"))
    outcome = await invoke(make_invoker, "get-function-run-status", settings=UpstreamSettings(max_body=len(payload), retries=0))
    assert outcome.data == {"pad": "x" * 990}


async def test_503_then_200_is_retried_for_get(upstream: Any, make_invoker: Any) -> None:
    upstream.route("GET", "/v1/runs/r1", reply(503, json={"message": "busy"}), reply(json={"id": "r1"}))
    outcome = await invoke(make_invoker, "get-function-run-status")
    assert outcome.status == 200 and outcome.data == {"id": "r1"}
    assert len(upstream.hits("GET", "/v1/runs/r1")) == 2


async def test_503_is_not_retried_for_post(upstream: Any, make_invoker: Any) -> None:
    upstream.route("POST", "/v1/runs/r1/cancel", reply(503, json={"message": "busy"}), reply(json={"cancelled": True}))
    outcome = await invoke(make_invoker, "cancel-function-run")
    assert outcome.status == 503 and outcome.is_error
    assert outcome.data == {"message": "busy"} and outcome.message == "busy"
    assert len(upstream.requests) == 1


async def test_retries_give_up_and_keep_the_last_status(upstream: Any, make_invoker: Any) -> None:
    upstream.route("GET", "/v1/runs/r1", reply(502, json={"message": "bad gateway"}))
    outcome = await invoke(make_invoker, "get-function-run-status")
    assert outcome.status == 502 and outcome.message == "bad gateway"
    assert len(upstream.requests) == 1 + FAST.retries


@pytest.mark.parametrize("status", [400, 404, 409, 429, 500])
async def test_other_statuses_are_not_retried(status: int, upstream: Any, make_invoker: Any) -> None:
    upstream.route("GET", "/v1/runs/r1", reply(status, json={"message": "no"}), reply(json={"id": "r1"}))
    outcome = await invoke(make_invoker, "get-function-run-status")
    assert outcome.status == status
    assert len(upstream.requests) == 1


async def test_dropped_connection_is_retried_for_get(upstream: Any, make_invoker: Any) -> None:
    upstream.route("GET", "/v1/runs/r1", close_connection(), reply(json={"id": "r1"}))
    outcome = await invoke(make_invoker, "get-function-run-status")
    assert outcome.data == {"id": "r1"}
    assert len(upstream.requests) == 2


async def test_dropped_connection_is_not_retried_for_post(upstream: Any, make_invoker: Any) -> None:
    upstream.route("POST", "/v1/runs/r1/cancel", close_connection(), reply(json={"cancelled": True}))
    with pytest.raises(InvokeError) as caught:
        await invoke(make_invoker, "cancel-function-run")
    assert_error_body(caught.value, 502, "upstream_unreachable", "inngest-runs.cancelrun")
    assert len(upstream.requests) == 1


async def test_concurrent_calls_share_one_pool(upstream: Any, make_invoker: Any) -> None:
    upstream.route("GET", "/v1/runs/r1", reply(json={"id": "r1"}))
    cap = load_capability(INNGEST)
    invoker = make_invoker(cap, env=ENV)
    outcomes = await asyncio.gather(*(invoker.invoke(tool(cap, "get-function-run-status"), mcp_incoming({"runId": "r1"})) for _ in range(20)))
    assert all(o.data == {"id": "r1"} for o in outcomes)
    assert invoker.transport.wire.session_count == 1


DIGEST_CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: digest, description: digest auth to an upstream}
binds:
  - namespace: creds
    keys:
      DIGEST_USER: DIGEST_USER
      DIGEST_PASSWORD: DIGEST_PASSWORD
capability:
  consumes:
    - type: http
      namespace: legacy
      baseUri: https://legacy.invalid
      authentication:
        type: digest
        username: '{{creds.DIGEST_USER}}'
        password: '{{DIGEST_PASSWORD}}'
      resources:
        - name: vessels
          path: /vessels/{{code}}
          operations:
            - name: get
              method: GET
              inputParameters:
                - name: verbose
                  in: query
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - name: get-vessel
          description: Get a vessel
          call: legacy.get
          outputParameters:
            - type: object
              mapping: $.
"""


@pytest.mark.parametrize("password, status", [("s3cret pass", 200), ("wrong", 401)], ids=["right", "wrong"])
async def test_digest_auth_round_trip(password: str, status: int, upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    upstream.route("GET", "/vessels/V%2F1", digest_protected("captain", "s3cret pass", reply(json={"code": "V/1"})))
    cap = write_capability(DIGEST_CAPABILITY)
    invoker = make_invoker(cap, env={"DIGEST_USER": "captain", "DIGEST_PASSWORD": password})
    outcome = await invoker.invoke(tool(cap, "get-vessel"), mcp_incoming({"code": "V/1", "verbose": True}))
    assert outcome.status == status
    first, second = upstream.requests
    assert "Authorization" not in first.headers  # not pre-emptive: the challenge comes first
    assert second.headers["Authorization"].startswith("Digest ")
    assert 'uri="/vessels/V%2F1?verbose=true"' in second.headers["Authorization"]
    if status == 200:
        assert outcome.data == {"code": "V/1"}
