"""The typed settings of a control adapter: which management routes it serves, metrics, scripting."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import OtherAdapter


@dataclass(frozen=True)
class Scripting:
    """`management.scripting`: settings every script step of the capability runs under."""

    timeout_ms: float | None = None  # None: the runtime's default


@dataclass(frozen=True)
class Management:
    health: bool = True  # `/health/live` and `/health/ready`
    info: bool = False  # `/status`
    scripting: Scripting = field(default_factory=Scripting)


@dataclass(frozen=True)
class Observability:
    enabled: bool = True
    local_metrics: bool = True  # `observability.metrics.local.enabled`: serve `/metrics`

    @property
    def metrics(self) -> bool:
        return self.enabled and self.local_metrics


@dataclass
class ControlAdapter(OtherAdapter):
    management: Management = field(default_factory=Management)
    observability: Observability = field(default_factory=Observability)
