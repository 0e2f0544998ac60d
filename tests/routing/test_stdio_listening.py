"""`--stdio` opens no listening port unless asked; `--engine-url` points local-engine namespaces at a running engine."""

from __future__ import annotations

import json

import pytest
from mcp.client import Client

from naftiko_runtime.engine import start_engine
from naftiko_runtime.exposes.mcp.server import build_server
from naftiko_runtime.runtime import RunOptions, Runtime

from ..support.paths import CAPABILITIES

FILE = CAPABILITIES / "humanitec-pipelineruns.yaml"
APP = {"orgId": "demo-org", "appId": "demo-app"}


async def _created_run(runtime: Runtime) -> dict:
    [(adapter, invoker)] = runtime.mcp_adapters()
    async with Client(build_server(adapter, invoker)) as client:
        created = await client.call_tool("start-pipeline-run", {**APP, "pipelineId": "ci", "inputs": {}})
        assert not created.is_error, created.content
        return created.structured_content  # type: ignore[return-value]


async def test_stdio_opens_no_rest_port_and_no_fixed_engine_port() -> None:
    runtime = Runtime(RunOptions(files=[FILE], stdio=True, mode="local", engine_db=":memory:", shutdown_grace=0.2))
    try:
        await runtime.start()
        assert not any(kind == "rest" for kind, _ in runtime.started), runtime.started
        assert runtime.engine is not None and not runtime.engine.url.endswith(":8700")
        assert (await _created_run(runtime))["pipeline_id"] == "ci"
    finally:
        await runtime.stop()


async def test_stdio_serves_rest_when_its_port_is_given() -> None:
    runtime = Runtime(RunOptions(files=[FILE], stdio=True, rest_port=0, mode="local", engine_port=0, engine_db=":memory:",
                                 shutdown_grace=0.2))
    try:
        await runtime.start()
        assert any(kind == "rest" for kind, _ in runtime.started), runtime.started
    finally:
        await runtime.stop()


@pytest.mark.parametrize("stdio", [True, False])
async def test_engine_url_points_every_mode_at_a_running_engine_and_runs_survive_the_process(stdio: bool) -> None:
    engine = await start_engine(host="127.0.0.1", port=0, db=":memory:")
    try:
        runs = []
        for _ in range(2):  # two processes one after the other, as a one-process-per-call client starts them
            runtime = Runtime(RunOptions(files=[FILE], stdio=stdio, mode="local", engine_url=engine.url, rest_port=0,
                                         mcp_port=0, shutdown_grace=0.2))
            try:
                await runtime.start()
                assert runtime.engine is None  # none started
                assert {m.target(runtime.engine_url) for m in runtime.modes if m.mode == "local-engine"} == {engine.url}
                runs.append((await _created_run(runtime))["id"])
            finally:
                await runtime.stop()
        import aiohttp

        async with aiohttp.ClientSession() as session, session.get(
                f"{engine.url}/orgs/demo-org/apps/demo-app/pipelines/ci/runs") as response:
            listed = json.loads(await response.text())
        ids = {r["id"] for r in (listed if isinstance(listed, list) else listed.get("items", []))}
        assert set(runs) <= ids, (runs, listed)
    finally:
        await engine.close()
