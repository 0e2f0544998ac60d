"""Structured logs and redaction: secrets bound from the environment never show, even when an upstream echoes them."""

from __future__ import annotations

import json

from tests.ops.helpers import API_KEY, TOKEN, OpsUpstream, mcp_call
from tests.support.runtime import Runtime, poll, request

SECRET_FORMS = [TOKEN, API_KEY, "key%2F0p5%2BQ%26x%3D1", "key%2F0p5%2BQ%26x=1"]


def _log_lines(runtime: Runtime) -> list[dict]:
    return [json.loads(line) for line in runtime.logs().splitlines() if line.strip()]


def _assert_no_secret(text: str) -> None:
    for form in SECRET_FORMS:
        assert form not in text, f"{form!r} leaked in: {text[:500]}"


def test_upstream_error_echoing_the_token_is_redacted_over_rest(ops: Runtime, upstream: OpsUpstream) -> None:
    status, headers, body = request("GET", f"{ops.rest}/echo-error")
    assert status == 401
    assert upstream.requests[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"  # the token did go upstream
    text = json.dumps(body)
    _assert_no_secret(text)
    assert "***" in text
    assert headers["X-Request-Id"]


def test_upstream_error_echoing_the_query_key_is_redacted_over_rest(ops: Runtime, upstream: OpsUpstream) -> None:
    status, _, body = request("GET", f"{ops.rest}/keyed-error")
    assert status == 401
    assert "api_key=" in upstream.requests[-1]["path"]
    _assert_no_secret(json.dumps(body))


def test_upstream_error_echoing_secrets_is_redacted_over_mcp(ops: Runtime, upstream: OpsUpstream) -> None:
    for tool in ("echo-error", "keyed-error"):
        status, _, answer = mcp_call(ops.mcp, tool)
        assert status == 200
        result = answer["result"]
        assert result["isError"] is True
        _assert_no_secret(json.dumps(answer))
        assert "***" in json.dumps(result)


def test_no_log_line_holds_a_secret(ops: Runtime, upstream: OpsUpstream) -> None:
    request("GET", f"{ops.rest}/echo-error", headers={"Authorization": f"Bearer {TOKEN}"})
    request("GET", f"{ops.rest}/keyed-error")
    mcp_call(ops.mcp, "echo-error")
    mcp_call(ops.mcp, "keyed-error")
    poll(lambda: sum(1 for line in _log_lines(ops) if line["event"] == "tool call") >= 2, timeout=10)
    _assert_no_secret(ops.logs())


def test_rest_access_log_is_one_json_object_per_line(ops: Runtime, upstream: OpsUpstream) -> None:
    status, headers, _ = request("GET", f"{ops.rest}/echo", headers={"X-Request-Id": "req-rest-1"})
    assert status == 200 and headers["X-Request-Id"] == "req-rest-1"
    assert upstream.requests[-1]["headers"]["X-Request-Id"] == "req-rest-1"
    line = poll(lambda: next((entry for entry in _log_lines(ops) if entry.get("request_id") == "req-rest-1"), None), timeout=10)
    assert {"time", "level", "event", "request_id", "route", "status", "upstream_status", "duration_ms"} <= set(line)
    assert (line["event"], line["route"], line["status"], line["upstream_status"], line["operation"]) == ("request", "/echo", 200, 200, "echo")


def test_generated_request_id_is_returned_and_passed_upstream(ops: Runtime, upstream: OpsUpstream) -> None:
    _, headers, body = request("GET", f"{ops.rest}/echo")
    assert len(headers["X-Request-Id"]) >= 16
    assert body["request_id"] == headers["X-Request-Id"]


def test_mcp_tool_call_log_line_and_request_id(ops: Runtime, upstream: OpsUpstream) -> None:
    status, headers, answer = mcp_call(ops.mcp, "echo", headers={"X-Request-Id": "req-mcp-1"})
    assert status == 200 and not answer["result"].get("isError")
    assert headers["x-request-id"] == "req-mcp-1"
    assert upstream.requests[-1]["headers"]["X-Request-Id"] == "req-mcp-1"
    line = poll(lambda: next((e for e in _log_lines(ops) if e.get("request_id") == "req-mcp-1"), None), timeout=10)
    assert {"time", "level", "event", "request_id", "route", "status", "upstream_status", "duration_ms"} <= set(line)
    assert (line["event"], line["route"], line["operation"], line["status"], line["upstream_status"]) == ("tool call", "tools/call", "echo", 200, 200)
    _, generated, _ = mcp_call(ops.mcp, "echo")
    assert generated["x-request-id"] and upstream.requests[-1]["headers"]["X-Request-Id"] == generated["x-request-id"]
