"""The Naftiko tutorial's own declarative suite (tests.yml, 33 cases), run against this runtime.

For every case: `naftiko run` of the named step file (a real subprocess, upstreams sent to the
local Microcks-style mock), then the MCP tool call through the MCP SDK client or the HTTP
request, then every `jq` assertion of the case evaluated by jq itself on the result.
Each step file is started once and reused by its consecutive cases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jq
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from ruamel.yaml import YAML

from .harness import REPO, RunningCapability, http_json
from .mock_upstream import TUTORIAL_DIR, MockServer

pytestmark = pytest.mark.skipif(not TUTORIAL_DIR.is_dir() and not os.environ.get("CI"), reason=f"tutorial conformance files not found at {TUTORIAL_DIR}")

CASES: list[dict[str, Any]] = (
    YAML(typ="safe").load((TUTORIAL_DIR / "tests.yml").read_text(encoding="utf-8"))["tests"] if TUTORIAL_DIR.is_dir() else []
)


@pytest.fixture(scope="module")
def mock() -> Any:
    with MockServer() as server:
        yield server


class Runtimes:
    """Starts each step file once, when its first case needs it, and reuses it for its cases.

    The next file in tests.yml order is launched in the background meanwhile, and files
    whose cases are all done are stopped, so at most two runtimes are alive at once.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.order = list(dict.fromkeys(c["file"] for c in CASES))
        self.running: dict[str, RunningCapability] = {}
        self.finished: list[RunningCapability] = []

    def _launch(self, file: str) -> RunningCapability:
        if file not in self.running:
            self.running[file] = RunningCapability(TUTORIAL_DIR / file, self.upstream).launch()
        return self.running[file]

    def get(self, file: str) -> RunningCapability:
        runtime = self._launch(file)
        position = self.order.index(file)
        for done in [f for f in self.running if self.order.index(f) < position]:
            stale = self.running.pop(done)
            stale.terminate()
            self.finished.append(stale)
        if position + 1 < len(self.order):
            self._launch(self.order[position + 1])
        return runtime.wait_started()

    def close(self) -> None:
        for runtime in [*self.running.values(), *self.finished]:
            runtime.stop()
        self.running.clear()
        self.finished.clear()


@pytest.fixture(scope="module")
def runtimes(mock: MockServer) -> Any:
    manager = Runtimes(mock.url)
    yield manager
    manager.close()


async def call_tool(url: str, headers: dict[str, str], tool: str, args: dict[str, Any]) -> Any:
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(f"{url}/mcp", http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(tool, args)
    texts = [c.text for c in result.content if getattr(c, "type", None) == "text"]
    assert not result.is_error, f"tool {tool} answered an error: {texts}"
    assert texts, f"tool {tool} answered no text content: {result}"
    return json.loads(texts[0])


def check(validations: list[dict[str, str]], result: Any) -> None:
    failed = []
    for validation in validations:
        outputs = jq.compile(validation["jq"]).input_value(result).all()
        if not outputs or not all(o is True for o in outputs):
            failed.append(f"{validation['jq']} -> {outputs}")
    assert not failed, "jq assertions failed:\n  " + "\n  ".join(failed) + f"\nresult: {json.dumps(result)[:2000]}"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_tutorial_case(case: dict[str, Any], runtimes: Runtimes) -> None:
    runtime = runtimes.get(case["file"])
    base = runtime.url_for_port(case["port"])
    if case.get("type") == "rest":
        status, result, text = http_json(case.get("method", "GET"), base + case["path"], case.get("body"))
        assert 200 <= status < 300, f"{case['method']} {case['path']} answered {status}: {text[:1000]}\n{runtime.log()[-3000:]}"
    else:
        result = await call_tool(base, runtime.mcp_headers(), case["tool"], case.get("args") or {})
    check(case["validations"], result)


def test_every_case_is_collected() -> None:
    assert len(CASES) == 33
    assert len({c["name"] for c in CASES}) == 33


# -- naftiko validate --strict over every tutorial capability document -----------------------


def _documents() -> list[Path]:
    """Step files and the shared consumes files that stand alone (they carry `naftiko:`); not secrets.yaml."""
    if not TUTORIAL_DIR.is_dir():
        return []
    files = sorted(TUTORIAL_DIR.glob("step-*.yml")) + sorted((TUTORIAL_DIR / "shared").glob("*.y*ml"))
    return [f for f in files if isinstance(YAML(typ="safe").load(f.read_text()), dict) and "naftiko" in YAML(typ="safe").load(f.read_text())]


DOCUMENTS = _documents()


@pytest.fixture(scope="module")
def strict_report() -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "validate", "--strict", "--format", "json", *map(str, DOCUMENTS)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    report = json.loads(proc.stdout)
    return {"exit": proc.returncode, "files": {entry["file"]: entry for entry in report}}


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(TUTORIAL_DIR)) for d in DOCUMENTS])
def test_validate_strict(document: Path, strict_report: dict[str, Any]) -> None:
    entry = strict_report["files"][str(document)]
    errors = [d for d in entry["diagnostics"] if d.get("severity") == "error"]
    assert entry["valid"] and not errors, json.dumps(errors, indent=2)


def test_validate_strict_exit_status(strict_report: dict[str, Any]) -> None:
    assert len(DOCUMENTS) == 11 + 6, [str(d) for d in DOCUMENTS]
    assert strict_report["exit"] == 0
