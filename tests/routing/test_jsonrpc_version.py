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
