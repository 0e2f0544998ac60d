"""Hot reload reaches every adapter kind: REST, MCP (HTTP and stdio), skill and control; metrics keep counting."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from tests.ops.helpers import (
    CAPABILITY,
    SECRET_ENV,
    OpsUpstream,
    mcp_call,
    metric_samples,
)
from tests.support.runtime import InProcess, poll_async, request, start

OTHERS = """\
  - type: skill
    namespace: ops-skills
    port: 3913
    description: Skills.
    skills:
    - name: first-skill
      description: The first.
      tools:
      - {name: echo, description: Echoes., from: {sourceNamespace: ops-tools, action: echo}}
  - type: control
    port: 3914
    management: {info: false}
"""
FULL = CAPABILITY + OTHERS


@pytest.fixture()
def watched(tmp_path: Path, upstream: OpsUpstream) -> Iterator[tuple[InProcess, Path]]:
    """Every adapter kind on port 0, --watch on (the test reloads itself rather than wait for the poll)."""
    file = tmp_path / "ops.yaml"
    file.write_text(FULL)
    runtime = start(file, env=SECRET_ENV, extra=["--upstream", f"*={upstream.url}", "--skill-port", "0",
                                                 "--control-port", "0", "--watch", "--watch-interval", "3600"])
    yield runtime, file
    runtime.stop()


def _reload(runtime: InProcess, file: Path, text: str) -> None:
    file.write_text(text)
    assert runtime.call(runtime.runtime.reload(0)) is True, runtime.logs()


def test_skill_and_control_adapters_are_swapped_in_place(watched: tuple[InProcess, Path]) -> None:
    runtime, file = watched
    skills, control = f"http://127.0.0.1:{runtime.port('skill')}", f"http://127.0.0.1:{runtime.port('control')}"
    assert [s["name"] for s in request("GET", f"{skills}/skills")[2]["skills"]] == ["first-skill"]
    assert request("GET", f"{control}/status")[0] == 404

    _reload(runtime, file, FULL.replace("first-skill", "second-skill").replace("{info: false}", "{info: true}"))
    assert [s["name"] for s in request("GET", f"{skills}/skills")[2]["skills"]] == ["second-skill"]
    status, _, body = request("GET", f"{control}/status")
    assert status == 200 and body["capability"]["label"] == "Ops"
    # the same ports, still ready, the adapters still started
    _, _, ready = request("GET", f"{control}/health/ready")
    assert {(a["type"], a["state"]) for a in ready["adapters"]} == {
        ("rest", "started"), ("mcp", "started"), ("skill", "started"), ("control", "started")}


def test_a_new_adapter_kind_in_an_edit_is_refused(watched: tuple[InProcess, Path]) -> None:
    runtime, file = watched
    file.write_text(FULL.replace("namespace: ops-skills", "namespace: other-skills"))
    assert runtime.call(runtime.runtime.reload(0)) is False
    assert "a new adapter (skill other-skills) needs a restart" in runtime.logs()


def test_metrics_count_requests_after_every_reload(watched: tuple[InProcess, Path]) -> None:
    """A reloaded invoker is counted even when it reuses the memory (and id) of an earlier, freed one."""
    runtime, file = watched
    metrics = f"http://127.0.0.1:{runtime.port('control')}/metrics"
    rest = f"http://127.0.0.1:{runtime.port('rest')}"

    def echoes() -> float:
        samples = metric_samples(metrics).get("naftiko_request", [])
        return sum(s.value for s in samples if s.name == "naftiko_request_total" and s.labels["operation"] == "echo")

    for n in range(1, 9):
        _reload(runtime, file, FULL.replace("A capability to operate.", f"Version {n}."))
        assert request("GET", f"{rest}/echo")[0] == 200
        assert echoes() == n, f"after reload {n}"
    assert mcp_call(f"http://127.0.0.1:{runtime.port('mcp')}/mcp", "echo")[0] == 200
    assert echoes() == 9


async def test_stdio_adapter_is_reloaded_without_closing_the_session(tmp_path: Path, upstream: OpsUpstream) -> None:
    file = tmp_path / "ops.yaml"
    file.write_text(CAPABILITY)
    args = ["-m", "naftiko_runtime", "run", "--stdio", str(file), "--watch", "--watch-interval", "0.1",
            "--upstream", f"*={upstream.url}", "--rest-port", "0", "--engine-port", "0", "--engine-db", ":memory:"]
    params = StdioServerParameters(command=sys.executable, args=args, env=SECRET_ENV)
    async with Client(params) as client:
        assert "echo-again" not in {t.name for t in (await client.list_tools()).tools}
        file.write_text(CAPABILITY.replace(
            "    - {name: echo, description: Echo., call: svc.get-echo}\n",
            "    - {name: echo, description: Echo., call: svc.get-echo}\n"
            "    - {name: echo-again, description: Again., call: svc.get-echo}\n"))

        async def listed() -> bool:
            return "echo-again" in {t.name for t in (await client.list_tools()).tools}

        await poll_async(listed, timeout=20)
        result = await client.call_tool("echo-again", {})
        assert not result.is_error


async def test_every_invoker_built_is_counted_even_on_a_freed_invokers_id(capability: Path, upstream: OpsUpstream) -> None:
    """Reloads build invokers while earlier ones are freed; one may get a freed one's id and must still count."""
    import gc

    from naftiko_runtime.binding.incoming import Incoming
    from naftiko_runtime.exposes.control import RuntimeMetrics
    from naftiko_runtime.runtime import RunOptions
    from naftiko_runtime.runtime.invokers import Pool, build_invoker
    from naftiko_runtime.runtime.plan import plan_file

    options = RunOptions(files=[capability], upstreams={"*": upstream.url}, env=SECRET_ENV)
    entry = plan_file(capability, options)
    action = next(a for a in entry.capability.adapters if a.type == "mcp").tools[0]
    metrics, layers = RuntimeMetrics(), Pool(options)
    seen: set[int] = set()
    reused = False
    try:
        for n in range(1, 31):
            invoker = build_invoker(entry, layers, metrics=metrics)
            reused |= id(invoker) in seen
            seen.add(id(invoker))
            assert (await invoker.invoke(action, Incoming(values={}, origin="mcp"))).status == 200
            labels = {"adapter": action.adapter, "operation": action.name, "status": "200"}
            assert metrics.registry.get_sample_value("naftiko_request_total", labels) == n, f"invoker {n}"
            del invoker
            gc.collect()
    finally:
        await layers.close()
    assert reused, "no id was reused: the case under test did not happen"
