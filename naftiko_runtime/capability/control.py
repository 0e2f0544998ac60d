"""The typed settings of a control adapter: which management routes it serves, metrics, traces, scripting."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..expressions.templates import Template
from .model import OtherAdapter

DEFAULT_TRACE_BUFFER = 100


@dataclass(frozen=True)
class Scripting:
    """`management.scripting`: settings every script step of the capability runs under (the control
    adapter's `/scripting` shows them and may change them while the runtime serves)."""

    timeout_ms: float | None = None  # None: the runtime's default
    declared: bool = False  # `management.scripting` is present: `/scripting` is served
    enabled: bool = True
    default_location: str | None = None
    default_language: str | None = None
    statement_limit: int | None = None  # None: the reference's default (100000); shown, not enforced
    allowed_languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Management:
    health: bool = True  # `/health/live` and `/health/ready`
    info: bool = False  # `/status`
    scripting: Scripting = field(default_factory=Scripting)


@dataclass(frozen=True)
class Observability:
    enabled: bool = True
    local_metrics: bool = True  # `observability.metrics.local.enabled`: serve `/metrics`
    declared: bool = False  # the adapter has an `observability` block (its tracing settings apply)
    sampling: float = 1.0  # `traces.sampling`
    propagation: str = "w3c"  # `traces.propagation`: w3c | b3
    traces_local: bool = True  # `traces.local.enabled`: serve `/traces`
    buffer_size: int = DEFAULT_TRACE_BUFFER  # `traces.local.buffer-size`
    otlp_endpoint: Template | None = None  # `exporters.otlp.endpoint` (binds may fill it)

    @property
    def metrics(self) -> bool:
        return self.enabled and self.local_metrics

    @property
    def traces(self) -> bool:
        return self.enabled and self.traces_local


@dataclass
class ControlAdapter(OtherAdapter):
    management: Management = field(default_factory=Management)
    observability: Observability = field(default_factory=Observability)
