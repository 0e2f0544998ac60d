"""The local trace buffer behind the control adapter's `/traces`, as the reference keeps it.

Finished spans are grouped by trace; when a trace's root span ends (no parent, or a
parent in the caller's process) the trace is summarised into a ring buffer of the last
`observability.traces.local.buffer-size` traces (default 100). Nothing here imports the
OpenTelemetry SDK until `span_capture` is called, so the runtime still starts without it.
"""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_BUFFER_SIZE = 100
#: Traces whose root has not ended yet, kept at most (the oldest is dropped first).
MAX_PENDING = 1000


@dataclass(frozen=True)
class SpanSummary:
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    duration_ms: int
    status: str

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"spanId": self.span_id}
        if self.parent_span_id is not None:
            out["parentSpanId"] = self.parent_span_id
        out.update(name=self.name, kind=self.kind, durationMs=self.duration_ms, status=self.status)
        return out


@dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    operation: str  # the root span's name
    duration_ms: int
    status: str  # OK | ERROR
    timestamp: str  # ISO-8601 UTC start of the root span
    spans: tuple[SpanSummary, ...]

    def as_list_item(self) -> dict[str, Any]:
        return {"traceId": self.trace_id, "operation": self.operation, "durationMs": self.duration_ms,
                "status": self.status, "spanCount": len(self.spans), "timestamp": self.timestamp}

    def as_detail(self) -> dict[str, Any]:
        return {"traceId": self.trace_id, "operation": self.operation, "durationMs": self.duration_ms,
                "status": self.status, "timestamp": self.timestamp, "spans": [s.as_json() for s in self.spans]}


class TraceBuffer:
    """The last `capacity` traces, newest first; safe to fill from any thread."""

    def __init__(self, capacity: int = DEFAULT_BUFFER_SIZE) -> None:
        if capacity < 1:
            raise ValueError(f"a trace buffer holds at least 1 trace, got {capacity}")
        self.capacity = capacity
        self._traces: deque[TraceSummary] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def add(self, trace: TraceSummary) -> None:
        with self._lock:
            self._traces.append(trace)

    def recent(self) -> list[TraceSummary]:
        with self._lock:
            return list(reversed(self._traces))

    def find(self, trace_id: str) -> TraceSummary | None:
        return next((t for t in self.recent() if t.trace_id == trace_id), None)

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._traces)

    def listing(self, operation: str | None = None, status: str | None = None) -> dict[str, Any]:
        """The `/traces` answer: summaries (filtered by root-span name part and status), capacity and use."""
        traces = [t for t in self.recent()
                  if (not operation or operation in t.operation) and (not status or t.status.lower() == status.lower())]
        return {"traces": [t.as_list_item() for t in traces], "bufferSize": self.capacity, "bufferUsed": self.size}


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _status(span: Any) -> str:
    from opentelemetry.trace import StatusCode

    return "ERROR" if span.status.status_code == StatusCode.ERROR else "OK"


def _millis(span: Any) -> int:
    return max(0, ((span.end_time or 0) - (span.start_time or 0)) // 1_000_000)


def summarise(root: Any, spans: list[Any]) -> TraceSummary:
    """A trace from its finished SDK spans (`ReadableSpan`s), `root` among them."""
    started = datetime.datetime.fromtimestamp((root.start_time or 0) / 1e9, tz=datetime.UTC)
    return TraceSummary(
        trace_id=_hex(root.context.trace_id, 32),
        operation=root.name,
        duration_ms=_millis(root),
        status=_status(root),
        timestamp=started.isoformat().replace("+00:00", "Z"),
        spans=tuple(
            SpanSummary(
                span_id=_hex(s.context.span_id, 16),
                parent_span_id=_hex(s.parent.span_id, 16) if s.parent is not None and s.parent.is_valid else None,
                name=s.name,
                kind=s.kind.name,
                duration_ms=_millis(s),
                status=_status(s),
            )
            for s in spans
        ),
    )


def span_capture(target: Callable[[], TraceBuffer | None]) -> Any:
    """An OpenTelemetry SDK span processor that fills the buffer `target()` gives (none: spans are dropped).

    Imports the SDK: call only when tracing is on."""
    from opentelemetry.sdk.trace import SpanProcessor

    class TraceCapture(SpanProcessor):
        def __init__(self) -> None:
            self.pending: OrderedDict[int, list[Any]] = OrderedDict()
            self.lock = threading.Lock()

        def on_end(self, span: Any) -> None:
            trace_id = span.context.trace_id
            is_root = span.parent is None or not span.parent.is_valid or span.parent.is_remote
            with self.lock:
                spans = self.pending.setdefault(trace_id, [])
                spans.append(span)
                if is_root:
                    del self.pending[trace_id]
                elif len(self.pending) > MAX_PENDING:
                    self.pending.popitem(last=False)
            buffer = target()
            if is_root and buffer is not None:
                buffer.add(summarise(span, spans))

        def shutdown(self) -> None:
            with self.lock:
                self.pending.clear()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    return TraceCapture()
