"""A log record is one line whatever a caller sends, and aiohttp's `Error handling request` says why."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from naftiko_runtime import logs

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import PIPELINERUNS

FORGED = "/nope%0a00:00:00%20error%20forged%0d%0b%e2%80%a8x"


async def test_a_path_cannot_forge_a_log_line(captured: Any, rest: Any, upstream: RecordingUpstream) -> None:
    buffer = captured("text")
    client = await rest(PIPELINERUNS)
    response = await client.get(FORGED)
    assert response.status == 404
    upstream.route("GET", "/orgs/a/pipeline-runs", reply(json=[]))
    response = await client.get("/v1/orgs/a/pipeline-runs", headers={"X-Request-Id": "id\tx"})
    assert response.status == 200
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert all(" request " in line for line in lines), lines
    assert "route=/nope\\n00:00:00 error forged\\r\\u000b\\u2028x" in lines[0]
    assert "request_id=id%09x" in lines[1]


async def failing(request: web.Request) -> web.Response:
    raise RuntimeError("boom\nforged line with s3cr3t-log-value")


@pytest.mark.parametrize("level", ["info", "debug"])
async def test_error_handling_request_logs_its_cause_on_one_line(level: str, captured: Any) -> None:
    logs.SECRETS.add(["s3cr3t-log-value"])
    buffer = captured("text", level)
    app = web.Application()
    app.router.add_get("/fail", failing)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        response = await client.get("/fail")
        assert response.status == 500
    text = buffer.getvalue()
    [line, *rest] = [line for line in text.splitlines() if not line.startswith("    ")]
    assert "Error handling request" in line
    assert "error=RuntimeError: boom\\nforged line with ***" in line
    assert "s3cr3t-log-value" not in text
    traceback = [t for t in text.splitlines() if t.startswith("    ")]
    if level == "debug":
        assert any("Traceback" in t for t in traceback) and any("RuntimeError" in t for t in traceback)
    else:
        assert traceback == [] and "Traceback" not in text
    assert rest == []


async def test_json_lines_stay_json(captured: Any, rest: Any) -> None:
    buffer = captured("json")
    client = await rest(PIPELINERUNS)
    await client.get(FORGED)
    [line] = buffer.getvalue().splitlines()
    assert '"route": "/nope\\n00:00:00 error forged' in line
