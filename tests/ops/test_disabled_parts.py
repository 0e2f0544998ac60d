"""Issue 15: one broken part never takes the whole file down.

A file whose REST route, MCP tool and one consumed parameter are broken still starts at the default
level: the start log lists each disabled part with file:line:col and reason, `/health/ready` and
`naftiko inspect` list them, the broken route answers 503 `operation_disabled` and the broken tool an
MCP error result (through the SDK's real client), while the sound parts are served. `--strict` refuses.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp.client import Client

from naftiko_runtime.runtime import StartupError
from tests.support.runtime import request, start
from tests.support.threaded_upstream import ThreadedUpstream

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info:
  label: Partly broken
  description: A route, a tool and a parameter are broken; the rest serves.
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://api.example.com
    resources:
    - name: echo
      path: /echo
      operations:
      - name: get-echo
        method: GET
        inputParameters:
        - name: ''
          in: query
        - name: q
          in: query
          value: '{{tools.q}}'
  exposes:
  - type: rest
    namespace: api
    port: 9090
    resources:
    - path: /echo
      operations:
      - method: GET
        call: up.get-echo
      - method: POST
        call: up.get-echo
        outputParameters: 42
  - type: mcp
    namespace: tools
    port: 9191
    tools:
    - name: echo
      description: Works.
      call: up.get-echo
    - name: broken
      description: Has no call at all.
"""


@pytest.fixture
def capability(tmp_path: Path) -> Path:
    path = tmp_path / "partly-broken.yaml"
    path.write_text(CAPABILITY)
    return path


def test_a_broken_part_is_disabled_and_the_rest_is_served(capability: Path) -> None:
    with ThreadedUpstream() as up:
        running = start(capability, extra=["--upstream", f"up={up.url}"], clean=True)
        try:
            logs = running.logs()
            for line, part in ((17, "parameter '' of operation 'echo.get-echo'"), (33, "route 'POST /echo'"),
                               (41, "tool 'broken'")):
                assert any(f"{capability}:{line}:" in row and part in row and "disabled" in row for row in logs.splitlines()), logs
            assert "Traceback" not in logs

            status, _, body = request("GET", f"{running.rest}/echo")
            assert status == 200 and body["path"] == "/echo"  # the sound route calls upstream, without the nameless parameter

            status, _, body = request("POST", f"{running.rest}/echo", {})
            assert status == 503 and body["error"] == "operation_disabled"
            assert f"{capability}:33:" in body["message"] and "outputParameters" in body["message"]

            status, _, ready = request("GET", f"{running.rest}/health/ready")
            assert status == 200
            listed = {(d["line"], d["kind"]) for d in ready["disabled"]}
            assert {(17, "parameter"), (33, "route"), (41, "tool")} <= listed
            assert all(d["file"] == str(capability) and d["reason"] for d in ready["disabled"])

            async def tools() -> tuple[list[str], object, object]:
                async with Client(running.mcp) as client:
                    names = [t.name for t in (await client.list_tools()).tools]
                    good = await client.call_tool("echo", {})
                    bad = await client.call_tool("broken", {})
                    return names, good, bad

            names, good, bad = asyncio.run(tools())
            assert {"echo", "broken"} <= set(names)  # a disabled tool is still listed, and says why when called
            assert not good.is_error  # type: ignore[attr-defined]
            assert bad.is_error  # type: ignore[attr-defined]
            text = " ".join(getattr(c, "text", "") for c in bad.content)  # type: ignore[attr-defined]
            assert "disabled" in text and f"{capability}:41:" in text
        finally:
            running.stop()


def test_strict_refuses_the_file(capability: Path) -> None:
    with pytest.raises(StartupError) as caught:
        start(capability, extra=["--strict"], clean=True)
    assert f"{capability}:17:" in str(caught.value) and "Traceback" not in str(caught.value)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "naftiko_runtime", *args], capture_output=True, text=True, timeout=120, check=False)


def test_inspect_lists_the_disabled_parts_and_strict_refuses(capability: Path) -> None:
    text = _cli("inspect", str(capability))
    assert text.returncode == 0, text.stderr
    assert "Disabled parts" in text.stdout and f"{capability}:41:" in text.stdout and "tool 'broken'" in text.stdout
    as_json = _cli("inspect", "--format", "json", str(capability))
    (desc,) = json.loads(as_json.stdout)
    assert {d["kind"] for d in desc["disabled"]} >= {"parameter", "route", "tool"}
    assert next(t for t in desc["mcp"] if t["tool"] == "broken")["disabled"]
    strict = _cli("inspect", "--strict", str(capability))
    assert strict.returncode == 1 and f"{capability}:17:" in strict.stderr
    for proc in (text, as_json, strict):
        assert "Traceback" not in proc.stdout + proc.stderr
    validate = _cli("validate", str(capability))  # validate keeps its verdict
    assert validate.returncode == 1 and ": error: " in validate.stdout
