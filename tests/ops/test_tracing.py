"""OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach an OTLP/HTTP receiver and `traceparent` reaches the upstream."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from tests.ops.helpers import SECRET_ENV, TOKEN, OpsUpstream, mcp_call
from tests.support.runtime import poll, request, start_process

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_PARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"


class OtlpReceiver:
    """A loopback OTLP/HTTP (protobuf) receiver: collects the spans posted to /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/v1/traces":
                    export = ExportTraceServiceRequest.FromString(body)
                    for resource in export.resource_spans:
                        for scope in resource.scope_spans:
                            outer.spans.extend(scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> OtlpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_spans_are_exported_and_traceparent_reaches_the_upstream(tmp_path: Path, capability: Path, upstream: OpsUpstream) -> None:
    with OtlpReceiver() as receiver:
        env = {**SECRET_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "50",
               "OTEL_SERVICE_NAME": "ops-sidecar"}
        runtime = start_process(capability, log=tmp_path / "run.log", env=env, extra=["--upstream", f"*={upstream.url}"])
        try:
            assert request("GET", f"{runtime.rest}/echo", headers={"traceparent": CALLER_PARENT})[0] == 200
            sent = upstream.requests[-1]["headers"]
            assert sent["traceparent"].split("-")[1] == CALLER_TRACE  # the caller's trace continues upstream
            assert mcp_call(runtime.mcp, "echo")[0] == 200
            mcp_parent = upstream.requests[-1]["headers"]["traceparent"]
            assert mcp_parent.split("-")[1] != CALLER_TRACE
            assert request("GET", f"{runtime.rest}/keyed-error")[0] == 401

            def spans_by_trace() -> Any:
                rest = [s for s in receiver.spans if s.trace_id.hex() == CALLER_TRACE]
                return rest if len(rest) >= 2 else None

            rest_spans = poll(spans_by_trace, timeout=20)
            server = next(s for s in rest_spans if s.name == "rest echo")
            client = next(s for s in rest_spans if s.name.startswith("GET svc.get-echo"))
            assert server.kind == 2 and client.kind == 3  # SERVER, CLIENT
            assert server.parent_span_id.hex() == "00f067aa0ba902b7"
            assert client.parent_span_id == server.span_id
            assert sent["traceparent"].split("-")[2] == client.span_id.hex()
            # the MCP tool call has its own trace with the upstream call inside it
            mcp_trace = mcp_parent.split("-")[1]
            poll(lambda: any(s.trace_id.hex() == mcp_trace and s.name == "mcp echo" for s in receiver.spans), timeout=20)
        finally:
            runtime.stop()
        # no secret in any exported attribute (the query key is never in url.full)
        for span in receiver.spans:
            for attribute in span.attributes:
                assert TOKEN not in str(attribute.value) and "api_key" not in str(attribute.value)


def test_tracing_is_off_without_the_endpoint(ops: Any, upstream: OpsUpstream) -> None:
    assert request("GET", f"{ops.rest}/echo")[0] == 200
    assert "traceparent" not in upstream.requests[-1]["headers"]
    assert "tracing enabled" not in ops.logs()
