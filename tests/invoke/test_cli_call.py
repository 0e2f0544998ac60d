"""`naftiko call` as a real subprocess against the recording upstream."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from ..support.recording_upstream import reply
from .conftest import REPO, SEEDED_DIR


async def naftiko(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> tuple[int, str, str]:
    """Run the CLI without blocking the loop the upstream serves on."""
    child_env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    child_env.update(env or {})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "naftiko_runtime", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=child_env, cwd=str(cwd),
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_call_tool_prints_the_mapped_result(upstream: Any) -> None:
    upstream.route("GET", "/v1/runs/run-1", reply(json={"id": "run-1", "status": "Completed"}))
    code, out, err = await naftiko(
        "call", str(SEEDED_DIR / "inngest-runs.yaml"), "get-function-run-status",
        "--arg", "runId=run-1", "--upstream", f"*={upstream.url}", env={"INNGEST_API_KEY": "cli-key"},
    )
    assert code == 0, err
    assert json.loads(out) == {"id": "run-1", "status": "Completed"}
    [seen] = upstream.requests
    assert seen.headers["Authorization"] == "Bearer cli-key"


async def test_call_rest_operation_with_body_file(upstream: Any, tmp_path: Path) -> None:
    body = {"url": "https://example.com/hook", "events": ["a"]}
    (tmp_path / "hook.json").write_text(json.dumps(body))
    upstream.route("POST", "/orgs/acme/apps/shop/webhooks", reply(201, json={"id": "wh-1", **body}))
    code, out, err = await naftiko(
        "call", str(SEEDED_DIR / "humanitec-event.yaml"), "POST /v1/orgs/{orgid}/apps/{appid}/webhooks",
        "--arg", "orgid=acme", "--arg", "appid=shop", "--body", f"@{tmp_path / 'hook.json'}",
        "--upstream", f"humanitec-event={upstream.url}",
    )
    assert code == 0, err
    assert json.loads(out) == {"id": "wh-1", **body}
    [seen] = upstream.requests
    assert (seen.method, seen.raw_path, seen.json) == ("POST", "/orgs/acme/apps/shop/webhooks", body)


async def test_call_exits_1_on_upstream_error_status(upstream: Any) -> None:
    upstream.route("GET", "/v1/runs/nope", reply(404, json={"message": "run not found"}))
    code, _out, err = await naftiko(
        "call", str(SEEDED_DIR / "inngest-runs.yaml"), "get-function-run-status",
        "--arg", "runId=nope", "--upstream", f"*={upstream.url}", env={"INNGEST_API_KEY": "k"},
    )
    assert code == 1
    assert "404" in err and "run not found" in err


async def test_call_exits_1_when_upstream_is_unreachable(upstream: Any) -> None:
    await upstream.stop()
    code, _out, err = await naftiko(
        "call", str(SEEDED_DIR / "inngest-runs.yaml"), "get-function-run-status",
        "--arg", "runId=r", "--upstream", f"*={upstream.url}", "--timeout", "5", env={"INNGEST_API_KEY": "k"},
    )
    assert code == 1
    error = json.loads(err[err.index("{"):])
    assert error["error"] == "upstream_unreachable" and error["upstream"] == "inngest-runs.getrun"
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [["--arg", "runId"], ["--body", "{not json"], ["--upstream", "nourl"]],
    ids=["arg-without-equals", "body-not-json", "upstream-without-url"],
)
async def test_call_usage_errors_exit_2(args: list[str], upstream: Any) -> None:
    code, out, err = await naftiko(
        "call", str(SEEDED_DIR / "inngest-runs.yaml"), "get-function-run-status", *args, env={"INNGEST_API_KEY": "k"},
    )
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert upstream.requests == []


async def test_call_missing_input_is_not_sent(upstream: Any) -> None:
    code, _out, err = await naftiko(
        "call", str(SEEDED_DIR / "inngest-runs.yaml"), "get-function-run-status",
        "--upstream", f"*={upstream.url}", env={"INNGEST_API_KEY": "k"},
    )
    assert code in (1, 2)
    assert "runId" in err
    assert upstream.requests == []


def test_call_without_credentials_goes_to_the_local_engine_as_run_does() -> None:
    """The same plan as `naftiko run`: a Humanitec namespace without its key is served by the bundled engine."""
    from click.testing import CliRunner

    from naftiko_runtime.cli import main

    args = ["call", str(SEEDED_DIR / "humanitec-pipelineruns.yaml"), "create-run-within-pipeline",
            "--arg", "orgId=demo-org", "--arg", "appId=demo-app", "--arg", "pipelineId=ci",
            "--body", '{"inputs": {}}', "--engine-db", ":memory:"]
    result = CliRunner().invoke(main, args, env={"HUMANITEC_API_KEY": None})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pipeline_id"] == "ci"


def test_call_live_without_credentials_is_one_line() -> None:
    from click.testing import CliRunner

    from naftiko_runtime.cli import main

    args = ["call", str(SEEDED_DIR / "humanitec-pipelineruns.yaml"), "create-run-within-pipeline", "--live",
            "--arg", "orgId=demo-org", "--arg", "appId=demo-app", "--arg", "pipelineId=ci"]
    result = CliRunner().invoke(main, args, env={"HUMANITEC_API_KEY": None})
    assert result.exit_code == 1
    assert "runs live but its binds do not resolve: HUMANITEC_API_KEY" in result.stderr
