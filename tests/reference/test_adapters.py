"""The reference engine's control, observability, skill and forward fixtures, as its JUnit tests assert."""

from __future__ import annotations

import pytest

from naftiko_runtime.observability import plan_tracing

from ..support.recording_upstream import RecordingUpstream, reply
from .helpers import get_json, load_ok, serve


async def test_control_capability_health_metrics_and_traces() -> None:
    """ControlIntegrationTest: control on localhost:9199 with health and info; metrics and a 50-trace buffer attached."""
    cap = load_ok("control/control-capability.yaml")
    [adapter] = cap.adapters
    assert (adapter.type, adapter.address, adapter.port) == ("control", "localhost", 9199)
    async with serve("control/control-capability.yaml") as served:
        base = served.url("control", None)
        assert (await get_json(served, "GET", base + "/health/live"))[0] == 200
        assert (await get_json(served, "GET", base + "/metrics"))[0] == 200
        status, traces = await get_json(served, "GET", base + "/traces")
        assert status == 200 and traces["bufferSize"] == 50
        assert (await get_json(served, "GET", base + "/traces/" + "0" * 32))[0] == 404


@pytest.mark.parametrize("name", ["control/control-observability-disabled.yaml", "observability/observability-disabled.yaml"])
async def test_control_observability_disabled_has_no_metrics_or_traces(name: str) -> None:
    """ControlIntegrationTest: with `observability.enabled: false` neither /metrics nor /traces is routed."""
    async with serve(name) as served:
        base = served.url("control", None)
        assert (await get_json(served, "GET", base + "/health/live"))[0] == 200
        assert (await get_json(served, "GET", base + "/metrics"))[0] == 404
        assert (await get_json(served, "GET", base + "/traces"))[0] == 404


async def test_control_scripting_get_and_put() -> None:
    """ScriptingIntegrationTest: GET /scripting shows the YAML config and zeroed stats; PUT updates enabled and timeout,
    and refuses a timeout below 1."""
    async with serve("control/control-scripting-capability.yaml") as served:
        base = served.url("control", None)
        status, body = await get_json(served, "GET", base + "/scripting")
        assert status == 200
        assert (body["enabled"], body["defaultLocation"], body["defaultLanguage"], body["timeout"], body["statementLimit"]) == (
            True, "file:///app/scripts", "javascript", 3000, 50000)
        assert body["allowedLanguages"] == ["javascript", "python"]
        assert (body["stats"]["totalExecutions"], body["stats"]["totalErrors"]) == (0, 0)
        status, body = await get_json(served, "PUT", base + "/scripting", json={"timeout": 10000})
        assert status == 200 and body["timeout"] == 10000
        status, body = await get_json(served, "PUT", base + "/scripting", json={"enabled": False})
        assert status == 200 and body["enabled"] is False
        status, _ = await get_json(served, "PUT", base + "/scripting", json={"timeout": 0})
        assert status == 400
        assert (await get_json(served, "GET", base + "/scripting"))[1]["timeout"] == 10000


async def test_observability_capability_enables_tracing_from_the_file() -> None:
    """ObservabilitySpecIntegrationTest: enabled, sampling 0.5 (traceidratio), b3 propagation (b3multi), the OTLP
    collector endpoint; the reference maps them to OTel properties under the OTEL_* variables, as here."""
    cap = load_ok("observability/observability-capability.yaml")
    [control] = cap.adapters
    plan = plan_tracing([("fixture", control.observability, {})])
    assert plan.variables == {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5",
                              "OTEL_PROPAGATORS": "b3multi", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.local:4317"}
    assert any("4317" in w and "OTLP over HTTP" in w for w in plan.warnings)
    assert plan.environment({"OTEL_TRACES_SAMPLER_ARG": "0.25"})["OTEL_TRACES_SAMPLER_ARG"] == "0.25"  # a variable wins
    async with serve("observability/observability-capability.yaml") as served:
        base = served.url("control", None)
        status, traces = await get_json(served, "GET", base + "/traces")
    assert status == 200 and traces["bufferSize"] == 100


async def test_skill_catalog_and_detail() -> None:
    """SkillIntegrationTest: GET /skills lists 2 skills; the first's detail has its metadata and a derived tool."""
    async with serve("skill-capability.yaml") as served:
        base = served.url("skill", "orders-skills")
        status, catalog = await get_json(served, "GET", base + "/skills")
        assert status == 200 and catalog["count"] == 2
        assert [s["name"] for s in catalog["skills"]] == ["order-management", "onboarding-guide"]
        status, detail = await get_json(served, "GET", base + "/skills/order-management")
    assert status == 200
    assert (detail["name"], detail["description"]) == ("order-management", "Tools for managing orders")
    assert (detail["allowed-tools"], detail["argument-hint"]) == ("list-orders", "Use for order operations")
    derived = detail["tools"][0]
    assert (derived["name"], derived["type"]) == ("list-orders", "derived")
    assert derived["invocationRef"]["targetNamespace"] == "orders-rest"
    assert len(detail["tools"]) == 2


async def test_register_forwards_to_notion_with_basic_auth(upstream: RecordingUpstream) -> None:
    """register.capability.yml (no JUnit test uses it): /notion/{{path}} forwards to the notion namespace with its
    basic credentials and the trusted Notion-Version header."""
    upstream.route("GET", "/rest/Notion+API/1.0.0/users/me", reply(json={"id": "me"}))
    async with serve("register.capability.yml", upstream.url) as served:
        status, _ = await get_json(served, "GET", served.rest_url("documentation") + "/notion/users/me",
                                   headers={"Notion-Version": "2022-06-28"})
    [seen] = upstream.requests
    assert seen.headers["Authorization"].startswith("Basic ")
    assert seen.headers["Notion-Version"] == "2022-06-28"
    assert status == 200
