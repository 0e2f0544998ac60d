"""Skill and control adapters over `naftiko run`, aggregates, imports and binds against the tutorial mock."""

from __future__ import annotations

import io
import json
import os
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from mcp import ClientSession
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from prometheus_client.parser import text_string_to_metric_families

from naftiko_runtime.binding.binds import resolve_capability_binds
from naftiko_runtime.binding.incoming import Incoming
from naftiko_runtime.capability.control import ControlAdapter
from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import McpAdapter, RestAdapter
from naftiko_runtime.capability.normalize.others import control_adapter
from naftiko_runtime.exposes.control import (
    AdapterState,
    RuntimeMetrics,
    build_control_app,
)
from naftiko_runtime.invoke.client import UpstreamPool, UpstreamSettings
from naftiko_runtime.invoke.invoker import Invoker

from .harness import RunningCapability, http_json
from .mock_upstream import TUTORIAL_DIR, MockServer

pytestmark = pytest.mark.skipif(not TUTORIAL_DIR.is_dir() and not os.environ.get("CI"), reason=f"tutorial files not found at {TUTORIAL_DIR}")


@pytest.fixture(scope="module")
def mock() -> Any:
    with MockServer() as server:
        yield server


async def _list_tools(base: str, headers: dict[str, str]) -> dict[str, Any]:
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(f"{base}/mcp", http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                listed = await session.list_tools()
    return {t.name: t.model_dump(by_alias=True, exclude_none=True) for t in listed.tools}


# -- skill adapter ------------------------------------------------------------------------------


def test_tutorial_skill_catalogue_and_detail(mock: MockServer) -> None:
    runtime = RunningCapability(TUTORIAL_DIR / "step-8-shipyard-skill-groups.yml", mock.url).start()
    try:
        base = runtime.url_for_port(3002)
        status, catalog, _ = http_json("GET", f"{base}/skills")
        assert status == 200
        assert catalog["count"] == 2
        assert [s["name"] for s in catalog["skills"]] == ["fleet-ops", "voyage-ops"]
        assert catalog["skills"][1]["tools"] == ["create-voyage"]
        status, detail, _ = http_json("GET", f"{base}/skills/fleet-ops")
        assert status == 200 and len(detail["tools"]) == 4
        for tool in detail["tools"]:
            assert tool["type"] == "derived"
            assert tool["invocationRef"] == {"targetNamespace": "shipyard-tools", "action": tool["name"], "mode": "mcp"}
        status, body, _ = http_json("GET", f"{base}/skills/no-such-skill")
        assert status == 404 and "no-such-skill" in body["message"]
        status, body, _ = http_json("GET", f"{base}/skills/fleet-ops/contents")
        assert status == 404 and "No location" in body["message"]
    finally:
        runtime.stop()


SKILL_CAPABILITY = """\
naftiko: "1.0.0-alpha2"
info:
  label: Skill and control demo
  description: A mock tool and a REST operation, grouped as skills, with a control port.
capability:
  aggregates:
    - label: Greetings
      namespace: greet
      functions:
        - name: hello
          description: Say hello
          semantics:
            safe: true
          inputParameters:
            - name: who
              type: string
              description: who to greet
          outputParameters:
            - name: greeting
              type: string
              value: "hello {{who}}"
  exposes:
    - type: mcp
      port: 3911
      namespace: demo-tools
      tools:
        - name: hello
          ref: greet.hello
    - type: rest
      port: 3912
      namespace: demo-api
      resources:
        - path: /hello/{{who}}
          name: hello
          operations:
            - method: GET
              name: hello
              inputParameters:
                - name: who
                  in: path
                  type: string
                  description: who to greet
              ref: greet.hello
    - type: skill
      port: 3913
      namespace: demo-skills
      description: Demo skills
      skills:
        - name: greeting
          description: Greet people
          license: Apache-2.0
          argument-hint: "[name]"
          allowed-tools: hello
          metadata:
            team: docs
          location: "file:///./skill-files"
          tools:
            - name: hello-mcp
              description: Greets over MCP
              from:
                sourceNamespace: demo-tools
                action: hello
            - name: hello-rest
              description: Greets over REST
              from:
                sourceNamespace: demo-api
                action: hello
            - name: guide
              description: How to greet
              instruction: guide.md
    - type: control
      port: 3914
      management:
        info: true
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, mock: MockServer) -> Any:
    folder = tmp_path_factory.mktemp("demo")
    (folder / "demo.yml").write_text(SKILL_CAPABILITY)
    files = folder / "skill-files"
    (files / "examples").mkdir(parents=True)
    (files / "guide.md").write_text("# Greeting\nSay hello politely.\n")
    (files / "examples" / "one.txt").write_text("hello world\n")
    (folder / "secret.txt").write_text("outside the skill folder\n")
    runtime = RunningCapability(folder / "demo.yml", mock.url).start()
    yield runtime
    runtime.stop()


def test_skill_detail_frontmatter_and_tool_kinds(demo: RunningCapability) -> None:
    base = demo.url_for_port(3913)
    status, detail, _ = http_json("GET", f"{base}/skills/greeting")
    assert status == 200
    assert detail["license"] == "Apache-2.0"
    assert detail["argument-hint"] == "[name]"
    assert detail["allowed-tools"] == "hello"
    assert detail["metadata"] == {"team": "docs"}
    tools = {t["name"]: t for t in detail["tools"]}
    assert tools["hello-mcp"]["invocationRef"]["mode"] == "mcp"
    assert tools["hello-rest"]["invocationRef"] == {"targetNamespace": "demo-api", "action": "hello", "mode": "rest"}
    assert tools["guide"] == {"name": "guide", "description": "How to greet", "type": "instruction", "instruction": "guide.md"}
    status, catalog, _ = http_json("GET", f"{base}/skills")
    assert catalog == {"count": 1, "skills": [{"name": "greeting", "description": "Greet people", "license": "Apache-2.0",
                                               "tools": ["hello-mcp", "hello-rest", "guide"]}]}


def test_skill_contents_file_and_download(demo: RunningCapability) -> None:
    base = demo.url_for_port(3913)
    status, contents, _ = http_json("GET", f"{base}/skills/greeting/contents")
    assert status == 200
    assert [(f["path"], f["type"]) for f in contents["files"]] == [("examples/one.txt", "text/plain"), ("guide.md", "text/markdown")]
    assert contents["files"][1]["size"] == len("# Greeting\nSay hello politely.\n")
    status, _, text = http_json("GET", f"{base}/skills/greeting/contents/guide.md")
    assert status == 200 and text.startswith("# Greeting")
    status, _, _ = http_json("GET", f"{base}/skills/greeting/contents/..%2Fsecret.txt")
    assert status == 404
    status, _, _ = http_json("GET", f"{base}/skills/greeting/contents/missing.md")
    assert status == 404
    import urllib.request

    with urllib.request.urlopen(f"{base}/skills/greeting/download", timeout=10) as response:
        assert response.headers["Content-Type"] == "application/zip"
        assert 'filename="greeting.zip"' in response.headers["Content-Disposition"]
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    assert sorted(archive.namelist()) == ["examples/one.txt", "guide.md"]
    assert archive.read("examples/one.txt") == b"hello world\n"


# -- control adapter ----------------------------------------------------------------------------


def test_control_health_status_and_metrics(demo: RunningCapability) -> None:
    control = demo.url_for_port(3914)
    assert http_json("GET", f"{control}/health/live")[1] == {"status": "UP"}
    status, ready, _ = http_json("GET", f"{control}/health/ready")
    assert status == 200 and ready["status"] == "UP"
    assert {(a["type"], a.get("namespace"), a["state"]) for a in ready["adapters"]} == {
        ("mcp", "demo-tools", "started"), ("rest", "demo-api", "started"),
        ("skill", "demo-skills", "started"), ("control", None, "started"),
    }
    assert {a["port"] for a in ready["adapters"]} == {int(u.rsplit(":", 1)[1]) for u in demo.endpoints.values()}
    status, info, _ = http_json("GET", f"{control}/status")
    assert status == 200
    assert info["capability"] == {"label": "Skill and control demo", "specVersion": "1.0.0-alpha2"}
    assert info["engine"]["name"] == "naftiko-runtime" and info["uptimeSeconds"] >= 0

    for _ in range(3):
        status, body, _ = http_json("GET", demo.url_for_port(3912) + "/hello/ada")
        assert status == 200 and body == {"greeting": "hello ada"}
    import urllib.request

    with urllib.request.urlopen(f"{control}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = [s for s in families["naftiko_request"].samples if s.name == "naftiko_request_total"]
    assert any(s.labels == {"adapter": "demo-api", "operation": "hello", "status": "200"} and s.value == 3 for s in requests), requests
    assert "naftiko_request_duration_seconds" in families
    assert [s.value for s in families["naftiko_capability_active"].samples] == [1.0]
    assert families["naftiko_uptime_seconds"].samples[0].value >= 0


def _control_adapter(raw: dict[str, Any]) -> tuple[ControlAdapter, Any]:
    result = load(TUTORIAL_DIR / "step-1-shipyard-mock.yml")
    assert result.capability is not None
    return control_adapter({"type": "control", "port": 1, **raw}, None, 0, None, None), result.capability


async def test_control_ready_is_degraded_when_an_adapter_is_down() -> None:
    adapter, cap = _control_adapter({})

    async def readiness() -> tuple[bool, dict[str, Any]]:
        return True, {"namespaces": []}

    app = build_control_app(
        adapter, cap, readiness=readiness, metrics=RuntimeMetrics(),
        adapters=lambda: [AdapterState("mcp", "a", 1, "started"), AdapterState("rest", "b", 2, "stopped")],
    )
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/health/ready")
        assert response.status == 503
        body = await response.json()
        assert body["status"] == "DEGRADED"
        assert body["adapters"][1] == {"type": "rest", "namespace": "b", "port": 2, "state": "stopped"}
        assert (await client.get("/status")).status == 404  # management.info defaults to false
        assert (await client.get("/metrics")).status == 200


async def test_control_routes_follow_the_toggles() -> None:
    adapter, cap = _control_adapter({"management": {"health": False, "info": True}, "observability": {"enabled": False}})

    async def readiness() -> tuple[bool, dict[str, Any]]:
        return True, {}

    app = build_control_app(adapter, cap, readiness=readiness, metrics=RuntimeMetrics(), adapters=lambda: [])
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/health/live")).status == 404
        assert (await client.get("/metrics")).status == 404
        assert (await client.get("/status")).status == 200


# -- aggregates ---------------------------------------------------------------------------------


async def test_aggregate_ref_inherits_inputs_and_derives_hints(mock: MockServer) -> None:
    runtime = RunningCapability(TUTORIAL_DIR / "step-9-shipyard-aggregates.yml", mock.url).start()
    try:
        tools = await _list_tools(runtime.url_for_port(3001), runtime.mcp_headers())
    finally:
        runtime.stop()
    crew = tools["get-ship-with-crew"]
    assert crew["description"] == "Get ship details with resolved crew names"  # the tool's own wins
    assert crew["inputSchema"]["required"] == ["imo"]  # inherited from the function
    assert crew["annotations"]["readOnlyHint"] is True  # safe -> readOnly
    assert crew["annotations"]["destructiveHint"] is False  # safe -> not destructive
    assert crew["annotations"]["idempotentHint"] is True  # idempotent -> idempotent
    voyage = tools["create-voyage"]["annotations"]
    assert voyage["readOnlyHint"] is False and voyage["openWorldHint"] is True


def test_explicit_hints_override_derived_ones_field_by_field(tmp_path: Path) -> None:
    (tmp_path / "hints.yml").write_text(textwrap.dedent("""\
        naftiko: "1.0.0-alpha2"
        capability:
          aggregates:
            - label: Ops
              namespace: ops
              functions:
                - name: purge
                  description: Purge a cache
                  semantics:
                    safe: false
                    idempotent: true
                  outputParameters:
                    - name: done
                      type: boolean
                      value: "true"
          exposes:
            - type: mcp
              port: 3921
              namespace: tools
              tools:
                - name: purge
                  ref: ops.purge
                  hints:
                    destructive: true
                - name: purge-again
                  description: Same, not idempotent
                  ref: ops.purge
                  hints:
                    idempotent: false
        """))
    result = load(tmp_path / "hints.yml", strict=True)
    assert result.ok, [str(d) for d in result.errors]
    mcp = next(a for a in result.capability.adapters if isinstance(a, McpAdapter))  # type: ignore[union-attr]
    purge, again = mcp.tools
    assert (purge.hints.read_only, purge.hints.destructive, purge.hints.idempotent) == (False, True, True)
    assert (again.hints.read_only, again.hints.destructive, again.hints.idempotent) == (False, None, False)
    assert purge.description == "Purge a cache" and again.description == "Same, not idempotent"


async def test_shared_mock_function_answers_alike_on_mcp_and_rest(demo: RunningCapability) -> None:
    status, body, _ = http_json("GET", demo.url_for_port(3912) + "/hello/grace")
    assert (status, body) == (200, {"greeting": "hello grace"})
    tools = await _list_tools(demo.url_for_port(3911), {})
    assert tools["hello"]["description"] == "Say hello"  # inherited
    async with create_mcp_http_client() as http:
        async with streamable_http_client(demo.url_for_port(3911) + "/mcp", http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("hello", {"who": "grace"})
    assert json.loads(result.content[0].text) == {"greeting": "hello grace"}


# -- imports and binds --------------------------------------------------------------------------


async def _call(path: Path, adapter_type: type, name: str, values: dict[str, Any], upstream: str) -> Any:
    result = load(path)
    assert result.ok, [str(d) for d in result.errors]
    cap = result.capability
    assert cap is not None
    action = None
    for adapter in cap.adapters:
        if isinstance(adapter, McpAdapter) and adapter_type is McpAdapter:
            action = next((t for t in adapter.tools if t.name == name), action)
        elif isinstance(adapter, RestAdapter) and adapter_type is RestAdapter:
            action = next((o.action for r in adapter.resources for o in r.operations if o.action.name == name), action)
    assert action is not None
    pool = UpstreamPool(UpstreamSettings())
    try:
        invoker = Invoker(cap, resolve_capability_binds(cap), pool, {"*": upstream})
        return await invoker.invoke(action, Incoming(values=values, origin="mcp"))
    finally:
        await pool.close()


async def test_binds_from_a_location_file_reach_the_upstream(mock: MockServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # `file:///./shared/secrets.yaml` is read beside the capability, not from the CWD
    mock.mock.requests.clear()
    outcome = await _call(TUTORIAL_DIR / "step-5-shipyard-multi-source.yml", McpAdapter, "get-ship", {"imo": "IMO-9321483"}, mock.url)
    assert outcome.status == 200 and outcome.data["imo"] == "IMO-9321483"
    outcome = await _call(TUTORIAL_DIR / "step-5-shipyard-multi-source.yml", McpAdapter, "list-legacy-vessels", {}, mock.url)
    assert outcome.status == 200 and outcome.data[0]["vesselCode"] == "LEGACY-4012"
    ship, legacy = mock.mock.requests[-2:]
    assert ship.path.endswith("/naftiko-shipyard-maritime-registry-api/1.0.0-alpha2/ships/IMO-9321483")
    assert ship.headers["Authorization"] == "Bearer dummy-token"
    assert ship.headers["Registry-Version"] == "1.0.0-alpha2"
    assert legacy.path.endswith("/naftiko-shipyard-legacy-dockyard-api/1.0.0-alpha2/vessels")
    assert legacy.headers["X-Dock-Key"] == "dummy-dockyard-key"


async def test_imported_consumes_with_an_alias(mock: MockServer, tmp_path: Path) -> None:
    (tmp_path / "alias.yml").write_text(textwrap.dedent(f"""\
        naftiko: "1.0.0-alpha2"
        capability:
          consumes:
            - import: registry
              as: fleet
              location: {TUTORIAL_DIR / "shared" / "step11-registry-consumes.yml"}
          exposes:
            - type: mcp
              port: 3931
              namespace: tools
              tools:
                - name: voyage
                  description: One voyage
                  inputParameters:
                    - name: id
                      type: string
                      description: voyage id
                  call: fleet.get-voyage
                  with:
                    voyageId: tools.id
        """))
    result = load(tmp_path / "alias.yml", strict=True)
    assert result.ok, [str(d) for d in result.errors]
    assert [api.namespace for api in result.capability.consumes] == ["fleet"]  # type: ignore[union-attr]
    outcome = await _call(tmp_path / "alias.yml", McpAdapter, "voyage", {"id": "VOY-2026-042"}, mock.url)
    assert outcome.status == 200 and json.loads(outcome.raw)["voyageId"] == "VOY-2026-042"  # no outputs: passed through


def test_an_unknown_import_or_ref_fails_the_load(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(textwrap.dedent(f"""\
        naftiko: "1.0.0-alpha2"
        capability:
          consumes:
            - import: nope
              location: {TUTORIAL_DIR / "shared" / "legacy-consumes.yaml"}
          exposes:
            - type: mcp
              port: 3941
              namespace: tools
              tools:
                - name: t
                  ref: missing.function
        """))
    messages = " | ".join(d.message for d in load(tmp_path / "bad.yml").errors)
    assert "has no consumes namespace 'nope' (it has: legacy)" in messages
    assert "ref 'missing.function' names no aggregate function" in messages


async def test_control_refuses_without_credentials_in_the_shared_error_body() -> None:
    from naftiko_runtime.capability.model import Auth
    from naftiko_runtime.expressions.templates import Template

    _, cap = _control_adapter({})
    auth = Auth("bearer", token=Template.compile("s3cret-token"))
    adapter = control_adapter({"type": "control", "port": 1, "management": {"info": True}}, None, 1, None, auth)

    async def readiness() -> tuple[bool, dict[str, Any]]:
        return True, {}

    app = build_control_app(adapter, cap, readiness=readiness, metrics=RuntimeMetrics(), adapters=lambda: [])
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/health/live")).status == 200  # liveness stays open
        response = await client.get("/status")
        assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        assert await response.json() == {"error": "unauthorized", "message": "missing or invalid credentials"}
        assert (await client.get("/status", headers={"Authorization": "Bearer s3cret-token"})).status == 200
