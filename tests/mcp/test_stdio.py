"""`naftiko run --stdio FILE`: the SDK's stdio client, and the raw pipe (nothing but protocol on stdout)."""

from __future__ import annotations

import json
import subprocess
import sys

from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from .conftest import PIPELINERUNS, ROOT

ARGS = ["-m", "naftiko_runtime", "run", "--stdio", str(PIPELINERUNS), "--engine-port", "0", "--engine-db", ":memory:", "--rest-port", "0"]
APP = {"orgId": "demo-org", "appId": "demo-app"}


async def test_sdk_stdio_client_lists_and_calls_tools() -> None:
    params = StdioServerParameters(command=sys.executable, args=ARGS, cwd=str(ROOT))
    for mode in ("legacy", "auto"):
        async with Client(params, mode=mode) as client:
            assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
            tools = (await client.list_tools()).tools
            assert len(tools) == 14
            created = await client.call_tool("start-pipeline-run", {**APP, "pipelineId": "ci", "inputs": {}})
            assert not created.is_error and created.structured_content["pipeline_id"] == "ci"  # type: ignore[index]
            missing = await client.call_tool("get-pipeline-run", APP)
            assert missing.is_error


def test_stdout_carries_only_protocol_messages_and_eof_ends_the_process() -> None:
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "ping"},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "nope", "arguments": {}}},
    ]
    proc = subprocess.Popen([sys.executable, *ARGS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for m in messages:
            proc.stdin.write((json.dumps(m) + "\n").encode())
        proc.stdin.flush()
        # Read the four answers before closing stdin: a client that closes stdin abandons in-flight requests.
        replies = [json.loads(proc.stdout.readline()) for _ in range(4)]  # each stdout line is one JSON-RPC message
        proc.stdin.close()
        rest = proc.stdout.read()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rest == b""  # nothing but those answers, ever
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    assert all(r["jsonrpc"] == "2.0" for r in replies)
    by_id = {r["id"]: r for r in replies}
    assert set(by_id) == {1, 2, 3, 4}  # the notification got no answer
    assert by_id[1]["result"]["protocolVersion"] == "2025-06-18"
    assert len(by_id[2]["result"]["tools"]) == 14
    assert by_id[3]["result"] == {}
    assert by_id[4]["error"]["code"] == -32602
    assert b"local engine started" in stderr  # logs go to stderr


def test_two_adapters_declaring_stdio_are_refused(tmp_path: object) -> None:
    """`transport: stdio` in the file is honoured without --stdio; stdin/stdout can carry only one adapter."""
    import pathlib

    adapter = """\
  - type: mcp
    transport: stdio
    namespace: {ns}
    tools:
    - {{name: hello-{ns}, description: Hello., outputParameters: [{{name: greeting, type: string, value: hi}}]}}
"""
    text = "naftiko: 1.0.0-alpha2\ninfo: {label: two, description: two stdio adapters}\ncapability:\n  exposes:\n"
    file = pathlib.Path(str(tmp_path)) / "two.yaml"
    file.write_text(text + adapter.format(ns="one") + adapter.format(ns="two"))
    done = subprocess.run([sys.executable, "-m", "naftiko_runtime", "run", str(file), "--rest-port", "0"],
                          check=False, stdin=subprocess.DEVNULL, capture_output=True, cwd=ROOT, timeout=60)
    assert done.returncode != 0
    assert b"one, two all declare transport: stdio" in done.stderr
