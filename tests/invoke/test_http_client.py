"""`naftiko run --http-client`: which client carries upstream calls, and a clear refusal when it is missing."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner

from naftiko_runtime.cli import main, run, run_options
from naftiko_runtime.invoke.transport import Transport
from naftiko_runtime.runtime.invokers import Pool

from ..conftest import HTTP_CLIENTS
from ..support.recording_upstream import reply
from .conftest import SEEDED_DIR, load_capability
from .helpers import mcp_incoming, tool

INNGEST = SEEDED_DIR / "inngest-runs.yaml"
BODYLESS = """\
naftiko: 1.0.0-alpha2
info: {label: bodyless, description: one operation without a body}
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: http://upstream.invalid
      resources:
        - {name: things, path: /things, operations: [{name: touch, method: {method}}]}
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - {name: touch, description: Touch the things., call: up.touch}
"""


@pytest.fixture(params=HTTP_CLIENTS)
def http_client(request: pytest.FixtureRequest) -> str:
    """Overrides the suite's aiohttp-only fixture: the upstream sees the chosen client."""
    return str(request.param)


def innermost(transport: Transport) -> Transport:
    while hasattr(transport, "inner"):
        transport = transport.inner
    return transport


def pool_for(args: list[str], env: dict[str, str] | None = None) -> Pool:
    """The upstream pool `naftiko run ARGS` would build, the environment read as the CLI reads it."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NAFTIKO_")} | (env or {})
    with mock.patch.dict(os.environ, environ, clear=True):
        options = run_options(**run.make_context("run", [str(INNGEST), *args]).params)
    return Pool(options)


@pytest.mark.parametrize("args, env, expected", [
    ([], {}, "AiohttpTransport"),
    (["--http-client", "pyreqwest"], {}, "PyreqwestTransport"),
    ([], {"NAFTIKO_HTTP_CLIENT": "pyreqwest"}, "PyreqwestTransport"),
    (["--http-client", "aiohttp"], {"NAFTIKO_HTTP_CLIENT": "pyreqwest"}, "AiohttpTransport"),
], ids=["default", "flag", "environment", "flag-over-environment"])
def test_the_client_comes_from_the_flag_then_the_environment(args: list[str], env: dict[str, str], expected: str) -> None:
    pool = pool_for(args, env)
    try:
        assert type(innermost(pool.transport)).__name__ == expected
    finally:
        asyncio.run(pool.close())


async def test_the_chosen_client_is_the_one_the_upstream_sees(http_client: str, upstream: Any, make_invoker: Any) -> None:
    upstream.route("GET", "/v1/runs/r1", reply(json={"id": "r1"}))
    cap = load_capability(INNGEST)
    outcome = await make_invoker(cap, env={"INNGEST_API_KEY": "k"}).invoke(tool(cap, "get-function-run-status"), mcp_incoming({"runId": "r1"}))
    assert outcome.data == {"id": "r1"}
    [seen] = upstream.requests
    assert http_client in seen.headers["User-Agent"].lower()


@pytest.mark.parametrize("method, length", [("POST", "0"), ("DELETE", "0"), ("GET", None)])
async def test_a_bodyless_write_declares_an_empty_body(method: str, length: str | None, http_client: str, upstream: Any,
                                                       make_invoker: Any, write_capability: Any) -> None:
    """`Content-Length: 0` on a write without a body, whichever the client (servers may answer 411 without it)."""
    upstream.route(method, "/things", reply(json={}))
    cap = write_capability(BODYLESS.replace("{method}", method))
    outcome = await make_invoker(cap).invoke(tool(cap, "touch"), mcp_incoming({}))
    assert outcome.status == 200
    [seen] = upstream.requests
    assert seen.headers.get("Content-Length") == length
    assert "Content-Type" not in seen.headers


def test_a_missing_pyreqwest_refuses_to_start_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the `fast` extra, choosing pyreqwest says how to install it; nothing is served."""
    monkeypatch.setitem(sys.modules, "pyreqwest.client", None)  # what `import` meets when the package is absent
    monkeypatch.delitem(sys.modules, "naftiko_runtime.invoke.pyreqwest_transport", raising=False)
    result = CliRunner().invoke(main, ["run", str(INNGEST), "--rest-port", "0", "--mcp-port", "0", "--engine-port", "0",
                                       "--engine-db", ":memory:"], env={"NAFTIKO_HTTP_CLIENT": "pyreqwest"})
    assert result.exit_code == 1, result.output
    assert "pyreqwest HTTP client is not installed" in result.output
    assert "pip install 'naftiko-runtime[fast]'" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_client_is_refused_by_the_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(INNGEST), "--http-client", "httpx"])
    assert result.exit_code == 2
    assert "'httpx' is not one of 'aiohttp', 'pyreqwest'" in result.output

