"""MCP adapters of several files on one port are one server, as REST adapters are; collisions stop the start."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.client import Client

from tests.support.paths import CAPABILITIES, SEEDED
from tests.support.runtime import Runtime, start


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = start(*SEEDED, log=tmp_path_factory.mktemp("shared") / "run.log")
    yield runtime
    runtime.stop()


async def test_one_port_lists_every_files_tools_and_routes_each_call(rt: Runtime) -> None:
    async with Client(rt.mcp) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert len(tools) == 11 + 7 + 3
        assert {"create-run-within-pipeline", "delete-webhook", "get-function-run-status"} <= tools
        runs = await client.call_tool("list-all-pipeline-runs-within", {"orgId": "demo-org"})
        assert not runs.is_error
        hooks = await client.call_tool("list-webhooks", {"orgId": "demo-org", "appId": "demo-app"})
        assert not hooks.is_error
        missing = await client.call_tool("get-function-run-status", {"runId": "01ARZ3NDEKTSV4RRFFQ69G5FAV"})
        assert missing.is_error and "404" in missing.content[0].text


def test_colliding_tool_names_stop_the_start(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text((CAPABILITIES / "inngest-runs.yaml").read_text().replace("path: /v1/v1/", "path: /v2/v2/"))
    proc = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "run", str(CAPABILITIES / "inngest-runs.yaml"), str(copy),
         "--rest-port", "0", "--mcp-port", "0", "--engine-port", "0", "--engine-db", ":memory:"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith("naftiko run:"))
    assert "MCP tool 'get-function-run'" in line and "copy.yaml:" in line and "inngest-runs.yaml:" in line
