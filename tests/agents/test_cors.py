"""CORS on the REST and MCP ports: nothing by default; `--cors-origin` (or NAFTIKO_CORS_ORIGIN)
lets a browser client preflight and read answers, with the MCP session headers exposed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.runtime import Runtime, request, start

from .conftest import CAPS

APP = "https://app.example.com"
INSPECTOR = "http://localhost:6274"  # MCP Inspector's page
RUNS = "/v1/orgs/demo-org/apps/demo-app/pipelines/ci/runs"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "browser", "version": "1"}}}
MCP_POST = {"Accept": "application/json, text/event-stream"}


def _start(tmp: Path, env: dict[str, str]) -> Runtime:
    return start(CAPS / "humanitec-pipelineruns.yaml", log=tmp / "run.log", extra=["--local"], env=env)


@pytest.fixture(scope="module")
def with_cors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = _start(tmp_path_factory.mktemp("cors"), {"NAFTIKO_CORS_ORIGIN": f"{APP}, {INSPECTOR}"})
    yield runtime
    runtime.stop()


@pytest.fixture(scope="module")
def without_cors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = _start(tmp_path_factory.mktemp("nocors"), {"NAFTIKO_CORS_ORIGIN": ""})
    yield runtime
    runtime.stop()


def _preflight(url: str, origin: str, method: str = "POST", headers: str = "content-type, idempotency-key") -> tuple[int, dict[str, str]]:
    status, got, _ = request("OPTIONS", url, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                                      "Access-Control-Request-Headers": headers})
    return status, {k.lower(): v for k, v in got.items()}


def test_rest_preflight_and_answers_for_an_allowed_origin(with_cors: Runtime) -> None:
    status, headers = _preflight(with_cors.rest + RUNS, APP)
    assert status == 204
    assert headers["access-control-allow-origin"] == APP
    assert "POST" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "content-type, idempotency-key"
    status, got, runs = request("GET", with_cors.rest + RUNS, headers={"Origin": APP})
    got = {k.lower(): v for k, v in got.items()}
    assert status == 200 and isinstance(runs, list)
    assert got["access-control-allow-origin"] == APP and "Origin" in got["vary"]
    assert "X-Request-Id" in got["access-control-expose-headers"] and "Location" in got["access-control-expose-headers"]
    # an error answer carries the headers too, so the browser can read why
    status, got, _ = request("GET", with_cors.rest + RUNS.replace("/ci/", "/no-such/"), headers={"Origin": APP})
    assert status == 404 and {k.lower(): v for k, v in got.items()}["access-control-allow-origin"] == APP


def test_rest_other_origins_get_no_cors_headers(with_cors: Runtime) -> None:
    status, headers = _preflight(with_cors.rest + RUNS, "https://evil.example")
    assert "access-control-allow-origin" not in headers and status != 204
    _, got, _ = request("GET", with_cors.rest + RUNS, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in {k.lower() for k in got}


def test_mcp_preflight_and_session_headers_exposed(with_cors: Runtime) -> None:
    status, headers = _preflight(with_cors.mcp, INSPECTOR, headers="content-type, mcp-protocol-version, mcp-session-id")
    assert status == 204 and headers["access-control-allow-origin"] == INSPECTOR
    assert "mcp-protocol-version" in headers["access-control-allow-headers"]
    status, got, body = request("POST", with_cors.mcp, INIT, headers={"Origin": INSPECTOR, **MCP_POST})
    got = {k.lower(): v for k, v in got.items()}
    assert status == 200 and body["result"]["protocolVersion"] == "2025-11-25"  # the guard accepts the CORS origin
    exposed = got["access-control-expose-headers"]
    assert got["access-control-allow-origin"] == INSPECTOR
    assert "Mcp-Session-Id" in exposed and "Mcp-Protocol-Version" in exposed


def test_nothing_is_allowed_by_default(without_cors: Runtime) -> None:
    status, headers = _preflight(without_cors.rest + RUNS, APP)
    assert "access-control-allow-origin" not in headers and status != 204
    status, headers = _preflight(without_cors.mcp, APP)
    assert "access-control-allow-origin" not in headers and status != 204
    status, got, _ = request("POST", without_cors.mcp, INIT, headers={"Origin": APP, **MCP_POST})
    assert status == 403 and "access-control-allow-origin" not in {k.lower() for k in got}
