"""The local trace buffer behind `/traces`: real OpenTelemetry SDK spans summarised per trace, newest first, bounded."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

from naftiko_runtime.traces import TraceBuffer, span_capture


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
