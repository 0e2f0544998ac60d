"""The control adapter's `/traces` and `/traces/{traceId}`, as the reference serves them.

`GET /traces[?operation=part&status=OK|ERROR]` -> `{traces: [{traceId, operation, durationMs,
status, spanCount, timestamp}], bufferSize, bufferUsed}`, newest first; `GET /traces/{traceId}` ->
one trace with its spans, 404 when the buffer no longer holds it. Without the OpenTelemetry SDK
(the `otel` extra) there is nothing to record and both answer 503, as in the reference.
"""

from __future__ import annotations

from aiohttp import web

from ..traces import TraceBuffer

NOT_ACTIVE = "OpenTelemetry is not active: local traces need the OpenTelemetry SDK (pip install 'naftiko-runtime[otel]')"


def add_trace_routes(app: web.Application, buffer: TraceBuffer | None) -> None:
    """`buffer` None: tracing could not start (the SDK is missing); the routes say so."""

    async def listing(request: web.Request) -> web.Response:
        if buffer is None:
            return web.json_response({"error": "tracing_inactive", "message": NOT_ACTIVE}, status=503)
        return web.json_response(buffer.listing(request.query.get("operation"), request.query.get("status")))

    async def detail(request: web.Request) -> web.Response:
        if buffer is None:
            return web.json_response({"error": "tracing_inactive", "message": NOT_ACTIVE}, status=503)
        trace_id = request.match_info["trace_id"]
        found = buffer.find(trace_id.lower())
        if found is None:
            return web.json_response({"error": "not_found", "message": f"trace not found: {trace_id[:64]}"}, status=404)
        return web.json_response(found.as_detail())

    app.router.add_get("/traces", listing)
    app.router.add_get("/traces/{trace_id}", detail)
