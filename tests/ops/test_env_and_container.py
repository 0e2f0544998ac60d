"""Settings from the environment (flag > environment > capability file > default), and the container files."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.ops.helpers import CAPABILITY, SECRET_ENV, OpsUpstream
from tests.support.runtime import request, spawn, start_process

ROOT = Path(__file__).resolve().parents[2]


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NAFTIKO_")}
    return subprocess.Popen([sys.executable, "-m", "naftiko_runtime", *args], stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, env={**clean, **env})


def test_settings_from_the_environment_take_effect(tmp_path: Path, capability: Path) -> None:
    with OpsUpstream() as up, OpsUpstream() as other:
        env = {
            **SECRET_ENV,
            "NAFTIKO_FILES": str(capability),
            "NAFTIKO_REST_PORT": "0",
            "NAFTIKO_MCP_PORT": "0",
            "NAFTIKO_METRICS_PORT": "0",
            # repeatable: comma- and space-separated
            "NAFTIKO_UPSTREAM": f"svc={up.url}, keyed={other.url}",
            "NAFTIKO_LOG_FORMAT": "json",
            "NAFTIKO_MAX_CONCURRENCY": "7",
            "NAFTIKO_ENGINE_PORT": "0",
        }
        proc = spawn(["run"], tmp_path / "run.log", env, clean=True)
        rest, mcp, metrics = proc.port("rest"), proc.port("mcp"), proc.port("metrics")
        try:
            assert request("GET", f"http://127.0.0.1:{rest}/echo")[0] == 200
            assert request("GET", f"http://127.0.0.1:{rest}/keyed-error")[0] == 401
            assert [r["path"] for r in up.requests] == ["/echo"]
            assert [r["path"].split("?")[0] for r in other.requests] == ["/echo-error"]
            assert request("GET", f"http://127.0.0.1:{mcp}/health/live")[0] == 200
            assert request("GET", f"http://127.0.0.1:{metrics}/metrics")[0] == 200
            lines = [json.loads(line) for line in (tmp_path / "run.log").read_text().splitlines() if line.strip()]
            assert any(line["event"] == "ready" for line in lines)
        finally:
            proc.stop()


def test_a_flag_wins_over_the_environment_which_wins_over_the_file(tmp_path: Path, capability: Path) -> None:
    env_port = 65535  # never bound: the flag's port 0 wins
    with OpsUpstream() as up:
        env = {**SECRET_ENV, "NAFTIKO_REST_PORT": str(env_port), "NAFTIKO_MCP_PORT": "0", "NAFTIKO_ENGINE_PORT": "0",
               "NAFTIKO_UPSTREAM": f"*={up.url}", "NAFTIKO_LOG_FORMAT": "json"}
        proc = spawn(["run", str(capability), "--rest-port", "0", "--log-format", "text"], tmp_path / "run.log", env, clean=True)
        flag_port = proc.port("rest")
        try:
            assert request("GET", f"http://127.0.0.1:{flag_port}/echo")[0] == 200
            log = (tmp_path / "run.log").read_text()
            assert not log.lstrip().startswith("{")  # --log-format text beat NAFTIKO_LOG_FORMAT=json
            assert f":{env_port}" not in log and ":8080" not in log  # neither the variable's nor the file's port
        finally:
            proc.stop()


def test_live_mode_from_the_environment_fails_loudly_on_a_missing_secret(tmp_path: Path, capability: Path) -> None:
    env = {"OPS_KEY": "only-one-of-two", "NAFTIKO_MODE": "live", "NAFTIKO_REST_PORT": "0", "NAFTIKO_MCP_PORT": "0"}
    proc = _spawn(["run", str(capability)], env, tmp_path / "run.log")
    assert proc.wait(30) == 1
    assert "runs live but its binds do not resolve: OPS_TOKEN" in (tmp_path / "run.log").read_text()


def test_with_json_logs_the_refusal_is_one_json_log_line(tmp_path: Path, capability: Path) -> None:
    env = {"OPS_KEY": "only-one-of-two", "NAFTIKO_MODE": "live", "NAFTIKO_LOG_FORMAT": "json",
           "NAFTIKO_REST_PORT": "0", "NAFTIKO_MCP_PORT": "0"}
    proc = _spawn(["run", str(capability)], env, tmp_path / "run.log")
    assert proc.wait(30) == 1
    lines = [json.loads(line) for line in (tmp_path / "run.log").read_text().splitlines() if line.strip()]
    refusal = lines[-1]
    assert refusal["level"] == "error" and refusal["event"] == "startup refused"
    assert "runs live but its binds do not resolve: OPS_TOKEN" in refusal["error"]
    assert "only-one-of-two" not in (tmp_path / "run.log").read_text()


def test_every_run_option_has_an_environment_variable() -> None:
    from naftiko_runtime.cli import run

    missing = [p.name for p in run.params if p.name not in ("help",) and not p.envvar and p.opts[0] not in ("--local", "--live")]
    assert missing == []
    for param in run.params:
        if param.envvar:
            names = [param.envvar] if isinstance(param.envvar, str) else param.envvar
            assert any(n == "NAFTIKO_" + param.opts[0].lstrip("-").upper().replace("-", "_") for n in names) or param.name == "files", names


# -- the container ------------------------------------------------------------------
def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(item.split(None, 1)[0].upper(), item.split(None, 1)[1] if " " in item else "") for item in logical]


def _exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arguments
    return value


def _env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, args in instructions:
        if name == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def test_dockerfile_is_well_formed_and_copies_files_that_exist() -> None:
    instructions = _dockerfile()
    names = [name for name, _ in instructions]
    # the base is an argument (python:3.12-slim by default; scripts/build-image.sh passes a Debian one)
    assert instructions[0] == ("ARG", "BASE_IMAGE=python:3.12-slim") and instructions[1] == ("FROM", "${BASE_IMAGE}")
    assert {"USER", "HEALTHCHECK", "ENTRYPOINT", "CMD", "EXPOSE"} <= set(names)
    user = next(args for name, args in instructions if name == "USER")
    assert user not in ("root", "0")
    for name, args in instructions:
        if name == "COPY":
            *sources, _ = shlex.split(args)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: missing"
    env = _env(instructions)
    assert env["NAFTIKO_MODE"] == "live"
    healthcheck = next(args for name, args in instructions if name == "HEALTHCHECK")
    assert "/health/ready" in healthcheck and env["NAFTIKO_METRICS_PORT"] in healthcheck.replace("'9464'", env["NAFTIKO_METRICS_PORT"])
    entry = _exec_form(next(args for name, args in instructions if name == "ENTRYPOINT"))
    assert entry[:2] == ["naftiko", "run"] and entry[entry.index("--host") + 1] == "0.0.0.0"
    assert _exec_form(next(args for name, args in instructions if name == "CMD")) == ["/capabilities"]


def test_every_flag_the_container_uses_is_one_naftiko_run_accepts() -> None:
    from naftiko_runtime.cli import run

    known_flags = {opt for p in run.params for opt in p.opts}
    known_env = {n for p in run.params if p.envvar for n in ([p.envvar] if isinstance(p.envvar, str) else p.envvar)}
    instructions = _dockerfile()
    entry = _exec_form(next(args for name, args in instructions if name == "ENTRYPOINT"))
    assert {a for a in entry[2:] if a.startswith("--")} <= known_flags
    compose = YAML(typ="safe").load((ROOT / "examples" / "docker-compose.yaml").read_text())
    variables = {k for k in _env(instructions) if k.startswith("NAFTIKO_")} - {"NAFTIKO_DATA_DIR"}
    for service in compose["services"].values():
        variables |= {k for k in service.get("environment", {}) if k.startswith("NAFTIKO_")}
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / "examples" / source).resolve().exists(), volume
    assert variables <= known_env, variables - known_env


@pytest.mark.timeout(90)
def test_the_compose_service_starts_and_becomes_ready(tmp_path: Path) -> None:
    """The image's entry point with the compose file's command and environment, on free loopback ports."""
    instructions = _dockerfile()
    entry = _exec_form(next(args for name, args in instructions if name == "ENTRYPOINT"))
    compose = YAML(typ="safe").load((ROOT / "examples" / "docker-compose.yaml").read_text())
    service = next(iter(compose["services"].values()))
    mounts = {}
    for volume in service["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts[target] = (ROOT / "examples" / source).resolve()
    command = [str(mounts.get(arg, arg)) for arg in service["command"]]
    env = {**_env(instructions), **{k: str(v) for k, v in service["environment"].items()},
           "NAFTIKO_REST_PORT": "0", "NAFTIKO_MCP_PORT": "0", "NAFTIKO_METRICS_PORT": "0",
           "NAFTIKO_DATA_DIR": str(tmp_path), "NAFTIKO_ENGINE_PORT": "0"}
    # entry[0] is the `naftiko` script; the host is narrowed to loopback for the test machine (the last --host wins)
    args = [*entry[1:], *command, "--host", "127.0.0.1"]
    proc = spawn(args, tmp_path / "run.log", env, clean=True, timeout=60)
    rest, metrics = proc.port("rest"), proc.port("metrics")
    try:
        status, _, body = request("GET", f"http://127.0.0.1:{rest}/v1/orgs/demo-org/apps/demo-app/pipelines/ci/runs")
        assert status == 200, body
        assert request("GET", f"http://127.0.0.1:{metrics}/metrics")[0] == 200
        assert re.search(r'"mode": "local-engine"', (tmp_path / "run.log").read_text())
    finally:
        proc.stop()


async def test_base_uri_placeholders_read_the_run_environment_not_the_process(tmp_path: Path) -> None:
    """Issue 17: a baseUri placeholder reads the environment `naftiko run` was given (RunOptions.env),
    captured at load, not `os.environ` at request time."""
    from naftiko_runtime.runtime import RunOptions
    from naftiko_runtime.runtime import Runtime as Served

    name = "NAFTIKO_TEST_OPS_HOST"
    assert name not in os.environ
    text = CAPABILITY.replace("baseUri: http://127.0.0.1:9\n    authentication: {type: bearer",
                              "baseUri: http://{{" + name + "}}\n    authentication: {type: bearer", 1)
    assert text != CAPABILITY
    file = tmp_path / "ops.yaml"
    file.write_text(text)
    with OpsUpstream() as up:
        served = Served(RunOptions(files=[file], rest_port=0, mcp_port=0, env={**SECRET_ENV, name: up.url.split("//", 1)[1]}))
        await served.start()
        try:
            import aiohttp

            async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{served.started[('rest', 'ops')]}/echo") as response:
                assert response.status == 200
            assert [r["path"] for r in up.requests] == ["/echo"]
        finally:
            await served.stop()


def test_uvloop_switch_is_read_by_naftiko_run(tmp_path: Path, capability: Path) -> None:
    """NAFTIKO_UVLOOP=1 picks the event loop of `naftiko run` (or says why it cannot); the process
    itself is under test (the CLI chooses the loop), so it runs as a subprocess."""
    runtime = start_process(capability, log=tmp_path / "run.log", env={**SECRET_ENV, "NAFTIKO_UVLOOP": "1"})
    try:
        assert "uvloop" in runtime.logs()
    finally:
        runtime.stop()
