"""A JSON-RPC message whose `jsonrpc` is not "2.0" is an Invalid Request (-32600), not a validation error."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from ..support.recording_upstream import RecordingUpstream
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Echo, description: One tool.}
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://up.example.com
    resources:
    - name: things
      path: /things
      operations:
      - {name: list, method: GET}
  exposes:
  - type: mcp
    port: 9090
    namespace: tools
    tools:
    - {name: list, description: The things., call: up.list}
"""


@pytest.mark.parametrize("version", ['"1.0"', '"2"', "2.0", "null", None])
async def test_a_message_that_is_not_jsonrpc_2_0_is_an_invalid_request(
        version: str | None, tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "echo.yaml"
    file.write_text(FILE)
    field = "" if version is None else f'"jsonrpc": {version}, '
    body = ('{' + field + '"id": 1, "method": "tools/call", "params": {"name": "list", "arguments": {}}}').encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    async with serve(file, {"*": upstream.url}, stdio=False) as served:
        url = f"http://127.0.0.1:{served.runtime.started[('mcp', 'tools')]}/mcp"
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
            status, answer = response.status, json.loads(await response.text())
    assert status == 400 and answer["error"]["code"] == -32600 and answer["id"] is None, answer
    assert "jsonrpc" in answer["error"]["message"]
    assert upstream.requests == []


def test_over_stdio_a_line_that_is_not_jsonrpc_2_0_is_answered_not_dropped() -> None:
    """The SDK's stdio transport answered nothing (the client waited forever); the process itself is tested."""
    import subprocess
    import sys

    from ..support.paths import CAPABILITIES, ROOT

    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "1.0", "id": 7, "method": "ping"},
    ]
    text = "\n".join(json.dumps(m) for m in lines) + "\nnot json\n" + json.dumps({"jsonrpc": "2.0", "id": 8, "method": "ping"}) + "\n"
    proc = subprocess.Popen(
        [sys.executable, "-m", "naftiko_runtime", "run", "--stdio", str(CAPABILITIES / "humanitec-pipelineruns.yaml"),
         "--engine-db", ":memory:"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=str(ROOT),
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(text)
        proc.stdin.flush()
        answers = [json.loads(proc.stdout.readline()) for _ in range(4)]  # stdin stays open: nothing is cut short
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=30)
    assert [a.get("id") for a in answers] == [1, None, None, 8], answers
    assert answers[1]["error"]["code"] == -32600 and "jsonrpc" in answers[1]["error"]["message"]
    assert answers[2]["error"]["code"] == -32700
    assert answers[3]["result"] == {}
