"""The container image, built with scripts/build-image.sh (podman, Debian base) and run.

What a new user would try: it starts as a non-root user, answers its probes and metrics, serves
REST and MCP on the bundled local engine, logs JSON, stops cleanly on SIGTERM, keeps the
engine's runs in the /data volume across a restart, and in live mode refuses a missing secret
with one JSON log line. Host ports are picked by podman (`-p 127.0.0.1::PORT`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mcp.client import Client

from tests.support.paths import CAPABILITIES, ROOT
from tests.support.runtime import poll, request

pytestmark = [pytest.mark.image, pytest.mark.timeout(1500)]

SCRIPT = ROOT / "scripts" / "build-image.sh"
CAPABILITY = CAPABILITIES / "humanitec-pipelineruns.yaml"
APP = "/v1/orgs/demo-org/apps/demo-app"
REST, MCP, METRICS = 8080, 9090, 9464


def _why_podman_cannot_run() -> str | None:
    missing = [tool for tool in ("podman", "debootstrap", "runc") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (.ci/run installs them: apt-get install podman buildah debootstrap)"
    if os.geteuid() != 0:
        return "building the image with podman and debootstrap needs root here"
    system = {k: v for k, v in os.environ.items() if not k.startswith("CONTAINERS_")}  # the machine's own settings
    info = subprocess.run(["podman", "info"], env=system, capture_output=True, text=True, timeout=60, check=False)
    if info.returncode != 0:
        return f"podman cannot run here: {(info.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


class Podman:
    """podman with the settings and storage of scripts/build-image.sh."""

    def __init__(self) -> None:
        exports = subprocess.run([str(SCRIPT), "--env"], check=True, capture_output=True, text=True).stdout
        self.env = dict(os.environ)
        for word in exports.split()[1:]:
            key, _, value = word.partition("=")
            self.env[key] = value

    def __call__(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                                check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
        return result


@dataclass
class Image:
    tag: str
    podman: Podman
    build_seconds: float


@pytest.fixture(scope="module")
def image() -> Image:
    reason = _why_podman_cannot_run()
    if reason:
        pytest.skip(f"image tests skipped: {reason}")
    tag = "localhost/naftiko-runtime:test"
    started = time.monotonic()
    built = subprocess.run([str(SCRIPT), tag], capture_output=True, text=True, timeout=1200, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return Image(tag, Podman(), time.monotonic() - started)


@dataclass
class Container:
    name: str
    podman: Podman

    def port(self, port: int) -> int:
        return int(self.podman("port", self.name, f"{port}/tcp").stdout.strip().rsplit(":", 1)[1])

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{self.port(port)}"

    def running(self) -> bool:
        return self.podman("inspect", "--format", "{{.State.Running}}", self.name).stdout.strip() == "true"

    def logs(self) -> str:
        result = self.podman("logs", self.name)
        return result.stdout + result.stderr

    def wait_ready(self) -> None:
        def ready() -> bool:
            if not self.running():
                raise AssertionError(f"the container stopped:\n{self.logs()}")
            try:
                return request("GET", f"{self.url(METRICS)}/health/ready")[0] == 200
            except OSError:
                return False

        poll(ready, timeout=90, interval=0.2)


@pytest.fixture()
def run_container(image: Image) -> Iterator[Any]:
    names: list[str] = []

    def run(*args: str, volume: str) -> Container:
        name = f"naftiko-test-{uuid.uuid4().hex[:10]}"
        names.append(name)
        image.podman(
            "run", "-d", "--name", name,
            "-p", f"127.0.0.1::{REST}", "-p", f"127.0.0.1::{MCP}", "-p", f"127.0.0.1::{METRICS}",
            "-v", f"{CAPABILITY}:/capabilities/{CAPABILITY.name}:ro", "-v", f"{volume}:/data",
            "-e", "NAFTIKO_MODE=local", "-e", f"NAFTIKO_REST_PORT={REST}", "-e", f"NAFTIKO_MCP_PORT={MCP}",
            "-e", "NAFTIKO_ALLOWED_HOST=127.0.0.1:*",
            *args, image.tag,
        )
        return Container(name, image.podman)

    yield run
    for name in names:
        image.podman("rm", "-f", "-t", "0", name, check=False)


@pytest.fixture()
def volume(image: Image) -> Iterator[str]:
    name = f"naftiko-test-data-{uuid.uuid4().hex[:10]}"
    image.podman("volume", "create", name)
    yield name
    image.podman("volume", "rm", "-f", name, check=False)


def _own_lines(text: str) -> list[str]:
    """The container's output lines, without podman's own (`time="..." level=...`) messages."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith('time="')]


async def _over_mcp(url: str) -> tuple[int, list[str]]:
    async with Client(url) as client:
        tools = (await client.list_tools()).tools
        listed = await client.call_tool("list-pipeline-runs", {"orgId": "demo-org", "appId": "demo-app",
                                                                              "pipelineId": "ci"})
    assert not listed.is_error, listed.content
    return len(tools), [run["id"] for run in listed.structured_content["result"]]


def test_the_image_serves_the_local_engine_as_non_root_and_keeps_runs_across_a_restart(
        image: Image, run_container: Any, volume: str) -> None:
    first = run_container(volume=volume)
    first.wait_ready()

    # non-root: the serving process itself (PID 1) runs as uid 10001
    status = image.podman("exec", first.name, "cat", "/proc/1/status").stdout
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == ["10001"] * 4, uid_line
    assert image.podman("healthcheck", "run", first.name, check=False).returncode == 0  # the image's HEALTHCHECK

    # REST on the local engine: a run to completion
    rest = first.url(REST)
    code, _, run = request("POST", f"{rest}{APP}/pipelines/ci/runs", {"inputs": {}})
    assert code == 201, run

    def finished() -> dict[str, Any] | None:
        got = request("GET", f"{rest}{APP}/pipelines/ci/runs/{run['id']}")[2]
        return got if got["status"] in ("succeeded", "failed") else None

    assert poll(finished, timeout=60, interval=0.2)["status"] == "succeeded"

    # MCP (the SDK's client) on the same engine
    tools, listed = asyncio.run(_over_mcp(f"{first.url(MCP)}/mcp"))
    assert tools == 14 and run["id"] in listed

    code, _, metrics = request("GET", f"{first.url(METRICS)}/metrics")
    assert code == 200 and "naftiko_request_total" in str(metrics)

    # JSON logs: every line is one object, with the ready line and the request lines
    events = {json.loads(line)["event"] for line in _own_lines(first.logs())}
    assert {"ready", "request"} <= events, events

    # SIGTERM: a clean stop with exit status 0
    started = time.monotonic()
    image.podman("kill", "--signal", "TERM", first.name)
    exit_code = image.podman("wait", first.name, timeout=60).stdout.strip()
    stopped_in = time.monotonic() - started
    assert exit_code == "0", first.logs()
    assert stopped_in < 15, stopped_in

    # a new container on the same /data volume still has the run
    second = run_container(volume=volume)
    second.wait_ready()
    code, _, again = request("GET", f"{second.url(REST)}{APP}/pipelines/ci/runs/{run['id']}")
    assert code == 200 and again["status"] == "succeeded", again
    print(f"image build {image.build_seconds:.1f} s; SIGTERM to exit {stopped_in:.2f} s; "
          f"size {image.podman('image', 'inspect', '--format', '{{.Size}}', image.tag).stdout.strip()} bytes")


def test_live_mode_refuses_a_missing_secret_with_one_json_log_line(image: Image) -> None:
    result = image.podman(
        "run", "--rm", "-v", f"{CAPABILITY}:/capabilities/{CAPABILITY.name}:ro", image.tag, check=False, timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    refusal = json.loads(_own_lines(result.stderr)[-1])
    assert refusal["level"] == "error" and refusal["event"] == "startup refused", refusal
    assert "runs live but its binds do not resolve: HUMANITEC_API_KEY" in refusal["error"]
