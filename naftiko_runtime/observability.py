"""A control adapter's `observability` block, as OpenTelemetry settings for `naftiko run`.

As in the reference engine, the file's values are defaults under the standard `OTEL_*`
variables (a variable that is set wins):

- `traces.sampling` below 1 -> `OTEL_TRACES_SAMPLER=traceidratio` with that ratio;
- `traces.propagation` -> `OTEL_PROPAGATORS` (`w3c`: `tracecontext,baggage`; `b3`: `b3multi`,
  which needs the `opentelemetry-propagator-b3` package, else W3C is kept with a warning);
- `exporters.otlp.endpoint` (bind placeholders filled) -> `OTEL_EXPORTER_OTLP_ENDPOINT`. This
  runtime exports OTLP over HTTP: an endpoint on 4317, OTLP/gRPC's port, is warned about.
- `traces.local` -> the `/traces` ring buffer (`buffer-size`, default 100), kept whenever the
  control adapter serves `/traces`, with or without an exporter;
- `enabled: false` -> no tracing at all, as in the reference (unless another file's control
  adapter keeps it on).

With several control adapters (several files), the first one that declares `observability` is used
and a different one elsewhere is warned about: a process has one tracer.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

PROPAGATORS = {"w3c": "tracecontext,baggage", "b3": "b3multi"}


@dataclass
class TracingPlan:
    """What tracing the run needs: `OTEL_*` defaults from the file, a local buffer size, and warnings."""

    variables: dict[str, str] = field(default_factory=dict)
    local_buffer: int | None = None  # the size of the `/traces` buffer, None when no control adapter serves it
    warnings: list[str] = field(default_factory=list)
    disabled: bool = False  # `observability.enabled: false`: no tracing at all, whatever the variables say

    def environment(self, env: Mapping[str, str] | None) -> dict[str, str]:
        """`env` (default: the process environment) with the file's values filling only what it does not set."""
        env = os.environ if env is None else env
        merged = dict(self.variables)
        merged.update({k: v for k, v in env.items() if v})
        return merged

    @property
    def needed(self) -> bool:
        return self.local_buffer is not None


def plan_tracing(settings: Sequence[tuple[str, Any, Mapping[str, Any]]]) -> TracingPlan:
    """`settings`: (where, typed Observability, bind values) of each control adapter, in file order."""
    plan = TracingPlan()
    chosen: tuple[str, Any] | None = None
    switched_off = False
    for where, obs, binds in settings:
        if not obs.enabled:
            switched_off = True
            continue
        if obs.traces_local and plan.local_buffer is None:
            plan.local_buffer = obs.buffer_size
        if not obs.declared:
            continue
        if chosen is not None:
            if _key(obs) != _key(chosen[1]):
                plan.warnings.append(f"{where}: observability differs from {chosen[0]}'s; a process has one tracer, "
                                     f"the first one is used")
            continue
        chosen = (where, obs)
        _apply(plan, where, obs, binds)
    plan.disabled = switched_off and chosen is None and plan.local_buffer is None
    return plan


def _key(obs: Any) -> tuple[Any, ...]:
    endpoint = obs.otlp_endpoint.source if obs.otlp_endpoint is not None else None
    return (obs.sampling, obs.propagation, endpoint)


def _apply(plan: TracingPlan, where: str, obs: Any, binds: Mapping[str, Any]) -> None:
    if obs.sampling < 1.0:
        plan.variables["OTEL_TRACES_SAMPLER"] = "traceidratio"
        plan.variables["OTEL_TRACES_SAMPLER_ARG"] = repr(float(obs.sampling))
    if obs.propagation == "b3" and importlib.util.find_spec("opentelemetry.propagators.b3") is None:
        plan.warnings.append(f"{where}: observability.traces.propagation b3 needs the opentelemetry-propagator-b3 "
                             "package (pip install 'naftiko-runtime[otel]'); W3C trace context is used")
    elif obs.propagation in PROPAGATORS:
        plan.variables["OTEL_PROPAGATORS"] = PROPAGATORS[obs.propagation]
    if obs.otlp_endpoint is not None:
        endpoint = obs.otlp_endpoint.render(binds).strip()
        if endpoint:
            plan.variables["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
            if urlsplit(endpoint).port == 4317:
                plan.warnings.append(f"{where}: observability.exporters.otlp.endpoint {endpoint} is on 4317, the OTLP/gRPC "
                                     "port; this runtime exports OTLP over HTTP (usually port 4318)")
