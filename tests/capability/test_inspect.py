"""`naftiko inspect`: the routes, the upstream call behind each, tools and binds, never a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.paths import SEEDED_DIR


def inspect(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "inspect", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )


def test_delete_a_webhook_calls_the_webhook_endpoint_and_ambiguity_is_warned() -> None:
    proc = inspect(str(SEEDED_DIR / "humanitec-event.yaml"))
    assert proc.returncode == 0, proc.stderr
    rows = {line.split("  ")[0]: line for line in proc.stdout.splitlines()}
    delete_one = rows["DELETE /v1/orgs/{orgid}/apps/{appid}/webhooks/{jobid}"]
    assert "DELETE https://api.humanitec.io/orgs/{orgId}/apps/{appId}/webhooks/{jobId}" in delete_one
    assert "/jobs " not in delete_one
    tool = next(line for line in proc.stdout.splitlines() if line.startswith("delete-webhook "))
    assert "DELETE https://api.humanitec.io/orgs/{orgId}/apps/{appId}/webhooks/{jobId}" in tool
    assert "jobId*: string" in tool and "destructive" in tool
    warnings = [line for line in proc.stderr.splitlines() if ": warning: operation name 'delete'" in line]
    assert warnings and all("seeded/humanitec-event.yaml:" in line for line in warnings)


def test_json_lists_schemas_and_binds_without_values() -> None:
    secret = "inngest-secret-value-123"
    proc = inspect("--format", "json", str(SEEDED_DIR / "inngest-runs.yaml"), env={"INNGEST_API_KEY": secret})
    assert proc.returncode == 0, proc.stderr
    (desc,) = json.loads(proc.stdout)
    assert secret not in proc.stdout
    assert desc["binds"] == [{"namespace": "env", "key": "INNGEST_API_KEY", "source": "INNGEST_API_KEY", "from": "environment", "resolved": True}]
    tools = {t["tool"]: t for t in desc["mcp"]}
    assert tools["get-function-run-status"]["inputSchema"]["required"] == ["runId"]
    assert tools["get-function-run-status"]["annotations"]["readOnlyHint"] is True
    assert {r["route"] for r in desc["rest"]} == {"GET /v1/v1/runs/{runid}", "POST /v1/v1/runs/{runid}/cancel", "GET /v1/v1/runs/{runid}/jobs"}


def test_an_invalid_file_exits_1_with_its_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("naftiko: 1.0.0-alpha2\ncapability: 3\n")
    proc = inspect(str(bad))
    assert proc.returncode == 1 and f"{bad}:2:" in proc.stderr and "Traceback" not in proc.stderr


def test_inspect_names_where_each_namespace_goes_as_run_decides() -> None:
    """The run's plan: without its key a Humanitec namespace goes to the local engine; with it, to its baseUri."""
    from click.testing import CliRunner

    from naftiko_runtime.cli import main
    from tests.support.paths import CAPABILITIES

    file = str(CAPABILITIES / "humanitec-pipelineruns.yaml")
    local = CliRunner().invoke(main, ["inspect", file, "--format", "json"], env={"HUMANITEC_API_KEY": None})
    assert local.exit_code == 0, local.output
    assert [(n["namespace"], n["mode"]) for n in json.loads(local.stdout)[0]["namespaces"]] == [("humanitec-pipelineruns", "local-engine")]
    live = CliRunner().invoke(main, ["inspect", file], env={"HUMANITEC_API_KEY": "k"})
    assert "humanitec-pipelineruns  live  https://api.humanitec.io" in live.stdout


def test_forward_resources_are_listed() -> None:
    from tests.reference.helpers import fixture

    proc = inspect("--format", "json", str(fixture("register.capability.yml")))
    assert proc.returncode == 0, proc.stderr
    (desc,) = json.loads(proc.stdout)
    [route] = desc["rest"]
    assert (route["route"], route["upstream"], route["operation"]) == ("* /notion/{{path}}", "forward to notion", "forward:notion")
