"""The local trace buffer behind `/traces`: real OpenTelemetry SDK spans summarised per trace, newest first, bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

from naftiko_runtime.traces import TraceBuffer, span_capture

from ..reference.helpers import get_json, serve
from ..support.recording_upstream import RecordingUpstream, reply


@pytest.fixture
async def upstream() -> AsyncIterator[RecordingUpstream]:
    recording = await RecordingUpstream().start()
    yield recording
    await recording.stop()


def _tracer(buffer: TraceBuffer) -> trace.Tracer:
    provider = TracerProvider()
    provider.add_span_processor(span_capture(lambda: buffer))
    return provider.get_tracer("test")


def test_a_trace_is_summarised_when_its_root_ends() -> None:
    buffer = TraceBuffer(10)
    tracer = _tracer(buffer)
    with tracer.start_as_current_span("rest get-ship", kind=SpanKind.SERVER) as root:
        with tracer.start_as_current_span("GET ships.get", kind=SpanKind.CLIENT) as child:
            child.set_status(Status(StatusCode.ERROR))
        assert buffer.size == 0  # the root has not ended
    [summary] = buffer.recent()
    assert summary.trace_id == format(root.get_span_context().trace_id, "032x")
    assert (summary.operation, summary.status, len(summary.spans)) == ("rest get-ship", "OK", 2)
    detail = summary.as_detail()
    client, server = detail["spans"]
    assert (client["kind"], client["status"], client["parentSpanId"]) == ("CLIENT", "ERROR", server["spanId"])
    assert "parentSpanId" not in server and server["kind"] == "SERVER"
    assert summary.timestamp.endswith("Z")


def test_the_buffer_keeps_the_newest_and_filters() -> None:
    buffer = TraceBuffer(2)
    tracer = _tracer(buffer)
    for name in ("rest a", "mcp b", "rest c"):
        with tracer.start_as_current_span(name) as span:
            if name == "rest c":
                span.set_status(Status(StatusCode.ERROR))
    listing = buffer.listing()
    assert [t["operation"] for t in listing["traces"]] == ["rest c", "mcp b"]
    assert (listing["bufferSize"], listing["bufferUsed"]) == (2, 2)
    assert [t["operation"] for t in buffer.listing(operation="rest")["traces"]] == ["rest c"]
    assert [t["operation"] for t in buffer.listing(status="ok")["traces"]] == ["mcp b"]
    assert buffer.find(listing["traces"][1]["traceId"]) is not None and buffer.find("0" * 32) is None


def test_a_buffer_holds_at_least_one_trace() -> None:
    with pytest.raises(ValueError):
        TraceBuffer(0)


TRACED = """\
naftiko: 1.0.0-alpha2
info: {label: traced, description: local traces}
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: http://127.0.0.1:9
    resources:
    - {name: ship, path: /ship, operations: [{name: get-ship, method: GET}]}
  exposes:
  - type: rest
    namespace: api
    port: 8080
    resources:
    - path: /ship
      operations:
      - {method: GET, call: up.get-ship}
  - type: control
    port: 9199
    observability:
      traces:
        local: {buffer-size: 10}
"""


async def test_control_traces_list_the_requests_served(tmp_path: Path, upstream: RecordingUpstream) -> None:
    """ControlIntegrationTest/TracesResourceTest: a served request appears in /traces with its server and client spans."""
    upstream.route("GET", "/ship", reply(json={"imo": "1"}))
    file = tmp_path / "traced.yaml"
    file.write_text(TRACED)
    async with serve(str(file), upstream.url) as served:
        assert (await get_json(served, "GET", served.rest_url("api") + "/ship"))[0] == 200
        base = served.url("control", None)

        async def listed() -> Any:
            status, body = await get_json(served, "GET", base + "/traces?operation=rest")
            return body if status == 200 and body["traces"] else None

        listing = await poll_async(listed)
        [trace_item] = listing["traces"]
        assert listing["bufferSize"] == 10 and trace_item["status"] == "OK" and trace_item["spanCount"] == 2
        status, detail = await get_json(served, "GET", f"{base}/traces/{trace_item['traceId']}")
    assert status == 200
    assert sorted(s["kind"] for s in detail["spans"]) == ["CLIENT", "SERVER"]
    assert upstream.requests[0].headers["traceparent"].split("-")[1] == trace_item["traceId"]


async def poll_async(check: Any, timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found is not None or asyncio.get_running_loop().time() > deadline:
            assert found is not None, "condition not met in time"
            return found
        await asyncio.sleep(0.05)


def test_observability_block_plans() -> None:
    """Disabled observability switches tracing off whatever OTEL_* says (as the reference); two files that differ warn."""
    from naftiko_runtime.capability.control import Observability
    from naftiko_runtime.expressions.templates import Template
    from naftiko_runtime.observability import plan_tracing

    off = plan_tracing([("a.yaml:3:5", Observability(enabled=False, declared=True), {})])
    assert off.disabled and off.local_buffer is None
    one = Observability(declared=True, sampling=0.5, buffer_size=20, otlp_endpoint=Template.compile("http://{{HOST}}:4318"))
    other = Observability(declared=True, sampling=0.1)
    plan = plan_tracing([("a.yaml:3:5", one, {"HOST": "collector"}), ("b.yaml:9:5", other, {})])
    assert not plan.disabled and plan.local_buffer == 20
    assert plan.variables["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"
    assert plan.variables["OTEL_TRACES_SAMPLER_ARG"] == "0.5"
    assert [w for w in plan.warnings if w.startswith("b.yaml:9:5")]
