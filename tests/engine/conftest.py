"""Fixtures: an engine started in-process on a free loopback port, and an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from naftiko_runtime.engine import EngineHandle, start_engine

from .helpers import Api

# Small pipelines the tests drive; loaded from files, so `script` is allowed.
QUICK = """
name: Quick
on: {pipeline_call: {inputs: {n: {type: number, required: false}}}}
jobs:
  only:
    steps:
      - uses: log
        with: {message: "quick ${{ inputs.n }}"}
"""

SLOW = """
name: Slow
on:
  pipeline_call:
    inputs:
      pidfile: {type: string, required: true}
jobs:
  work:
    steps:
      - name: Long script
        uses: script
        with:
          run: 'echo $$ > "$PIDFILE"; echo started; exec sleep 60'
          env: {PIDFILE: "${{ inputs.pidfile }}"}
"""

GATED = """
name: Gated
on: {pipeline_call: {}}
concurrency: {group: gated}
jobs:
  main:
    steps:
      - id: gate
        uses: actions/humanitec/approve@v1
        with: {environment: staging, message: "go?"}
      - uses: log
        with: {message: "after the gate"}
"""


@pytest.fixture
def pipelines_dir(tmp_path: Path) -> Path:
    root = tmp_path / "pipelines"
    for pid, text in (("quick", QUICK), ("slow", SLOW), ("gated", GATED)):
        folder = root / "t-org" / "t-app"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{pid}.yaml").write_text(text)
    return root


@pytest.fixture
async def engine() -> AsyncIterator[EngineHandle]:
    """The engine with the bundled fixtures (demo-org/demo-app: ci, release, broken, on-push)."""
    handle = await start_engine(port=0, db=":memory:")
    try:
        yield handle
    finally:
        await handle.close()


@pytest.fixture
async def test_engine(pipelines_dir: Path, tmp_path: Path) -> AsyncIterator[EngineHandle]:
    """The engine with the tests' own pipelines (t-org/t-app: quick, slow, gated), on a file DB."""
    handle = await start_engine(port=0, db=str(tmp_path / "engine.db"), pipelines_dir=pipelines_dir)
    try:
        yield handle
    finally:
        await handle.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    # seed 001 requires a bearer token on every Pipelines API call; any well-formed one will do
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer engine-tests"}) as s:
        yield s


@pytest.fixture
def api(engine: EngineHandle, session: aiohttp.ClientSession) -> Api:
    return Api(session, engine.url)


@pytest.fixture
def tapi(test_engine: EngineHandle, session: aiohttp.ClientSession) -> Api:
    return Api(session, test_engine.url, org="t-org", app="t-app")
