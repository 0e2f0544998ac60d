"""The one internal run/job/step model (backends-notes §3) every API projects from.

States are the internal ones (``running``, ``timed_out``…); Humanitec's ``executing`` and
friends are produced by ``api/humanitec.py``. Every change goes through ``move()`` so an
illegal transition is impossible to make by accident, and bumps ``revision`` (the ETag).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self

from .errors import IllegalTransition


def now() -> datetime:
    """UTC, at millisecond precision (what the API prints, so filters and output agree)."""
    ts = datetime.now(UTC)
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def iso(ts: datetime | None) -> str | None:
    """RFC 3339 with milliseconds and a ``Z``, as Humanitec prints it."""
    if ts is None:
        return None
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def parse_iso(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class RunState(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    PROCESSING = "processing"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    INVALID = "invalid"


class JobState(StrEnum):
    """Shared by jobs and steps."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"


StepState = JobState

RUN_TERMINAL = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT, RunState.INVALID})
JOB_TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT, JobState.SKIPPED})

# from-state -> states it may move to. Anything absent is illegal.
RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.PENDING: frozenset({RunState.QUEUED, RunState.INVALID, RunState.CANCELLED}),
    RunState.QUEUED: frozenset({RunState.PROCESSING, RunState.CANCELLED, RunState.FAILED}),
    RunState.PROCESSING: frozenset({RunState.RUNNING, RunState.CANCELLED, RunState.FAILED}),
    RunState.RUNNING: frozenset(
        {RunState.WAITING, RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT}
    ),
    RunState.WAITING: frozenset({RunState.RUNNING, RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT}),
}
JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset({JobState.QUEUED, JobState.RUNNING, JobState.SKIPPED, JobState.CANCELLED}),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.SKIPPED, JobState.CANCELLED, JobState.FAILED}),
    JobState.RUNNING: frozenset(
        {JobState.WAITING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT}
    ),
    JobState.WAITING: frozenset({JobState.RUNNING, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT}),
}


def can_move(transitions: dict[Any, frozenset[Any]], current: Any, target: Any) -> bool:
    return target in transitions.get(current, frozenset())


def make_etag(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:16]


class _Record:
    """Serialisation shared by every record: datetimes as ISO strings, enums as values."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, list) and value and isinstance(value[0], _Record):
                value = [v.to_dict() for v in value]
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                continue
            value = data[f.name]
            if isinstance(value, str) and (f.name.endswith("_at")):
                value = datetime.fromisoformat(value)
            kwargs[f.name] = value
        return cls(**kwargs)


@dataclass
class Step(_Record):
    """One executed (or skipped) step; ``index`` is its position in the job's ``steps:``."""

    index: int
    name: str
    uses: str
    state: str = JobState.RUNNING
    status_message: str = ""
    created_at: datetime = field(default_factory=now)
    completed_at: datetime | None = None
    timeout_seconds: int = 3600
    related_entities: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    step_id: str | None = None

    def move(self, target: str, message: str | None = None) -> None:
        if not can_move(JOB_TRANSITIONS, JobState(self.state), JobState(target)):
            raise IllegalTransition("step", str(self.index), self.state, target)
        self.state = JobState(target)
        if message is not None:
            self.status_message = message
        if self.state in JOB_TERMINAL:
            self.completed_at = now()


@dataclass
class Job(_Record):
    """A job of a run; ``steps`` holds only steps that started, in start order."""

    run_id: str
    job_id: str
    name: str
    state: str = JobState.QUEUED
    status_message: str = "Waiting for dependencies"
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    cancellation_requested_at: datetime | None = None
    timeout_seconds: int = 3600
    waiting_for: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    revision: int = 1

    @property
    def etag(self) -> str:
        return make_etag("job", self.run_id, self.job_id, self.revision)

    def touch(self) -> None:
        self.revision += 1
        self.updated_at = now()

    def move(self, target: str, message: str | None = None) -> None:
        if not can_move(JOB_TRANSITIONS, JobState(self.state), JobState(target)):
            raise IllegalTransition("job", self.job_id, self.state, target)
        self.state = JobState(target)
        if message is not None:
            self.status_message = message
        if self.state is JobState.RUNNING and self.started_at is None:
            self.started_at = now()
        if self.state in JOB_TERMINAL:
            self.completed_at = now()
            self.waiting_for = None
        self.touch()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        data = dict(data)
        steps = [Step.from_dict(s) for s in data.pop("steps", [])]
        job = super().from_dict(data)
        job.steps = steps
        return job


@dataclass
class Run(_Record):
    """A pipeline run: trigger, inputs, state, timestamps. ``seq`` orders runs newest-first."""

    id: str
    seq: int
    org_id: str
    app_id: str
    pipeline_id: str
    pipeline_version: str
    trigger: str
    inputs: dict[str, Any]
    state: str = RunState.PENDING
    status_message: str = "Run created"
    created_at: datetime = field(default_factory=now)
    created_by: str = "local-user"
    run_as: str = "s-local-engine"
    queued_at: datetime | None = None
    started_at: datetime | None = None
    cancellation_requested_at: datetime | None = None
    completed_at: datetime | None = None
    updated_at: datetime = field(default_factory=now)
    timeout_seconds: int = 3600
    concurrency_group: str | None = None
    env_ids: list[str] = field(default_factory=list)
    waiting_for: dict[str, str] = field(default_factory=dict)
    job_order: list[str] = field(default_factory=list)
    source: str = "api"
    restarted_from: str | None = None
    revision: int = 1
    number: int = 0  # 1, 2, 3… per pipeline (seed 002's run_number)
    event_id: str | None = None  # the event that started it (Inngest-style triggers)

    @property
    def etag(self) -> str:
        return make_etag("run", self.id, self.revision)

    @property
    def terminal(self) -> bool:
        return RunState(self.state) in RUN_TERMINAL

    def touch(self) -> None:
        self.revision += 1
        self.updated_at = now()

    def move(self, target: str, message: str | None = None) -> None:
        if not can_move(RUN_TRANSITIONS, RunState(self.state), RunState(target)):
            raise IllegalTransition("run", self.id, self.state, target)
        self.state = RunState(target)
        if message is not None:
            self.status_message = message
        if self.state is RunState.QUEUED:
            self.queued_at = now()
        if self.state is RunState.RUNNING and self.started_at is None:
            self.started_at = now()
        if self.state in RUN_TERMINAL:
            self.completed_at = now()
            self.waiting_for = {}
        self.touch()


@dataclass
class Approval(_Record):
    """An approval request created by the ``approve`` action."""

    id: str
    org_id: str
    app_id: str
    pipeline_id: str
    run_id: str
    job_id: str
    env_id: str
    message: str
    status: str = "waiting"
    created_at: datetime = field(default_factory=now)
    approved_by: str | None = None
    approved_at: datetime | None = None


@dataclass
class Pipeline(_Record):
    """A stored pipeline; ``definition`` is its YAML text, ``version`` the current version id."""

    org_id: str
    app_id: str
    id: str
    name: str
    version: str
    definition: str
    trigger_types: list[str]
    created_at: datetime = field(default_factory=now)
    metadata: dict[str, str] = field(default_factory=dict)
    status: str = "active"
    source: str = "api"  # "file" pipelines may run `script`
    revision: int = 1

    @property
    def etag(self) -> str:
        return make_etag("pipeline", self.org_id, self.app_id, self.id, self.revision)


@dataclass
class PipelineVersion(_Record):
    id: str
    org_id: str
    app_id: str
    pipeline_id: str
    definition: str
    created_by: str = "local-user"
    created_at: datetime = field(default_factory=now)


@dataclass
class Criteria(_Record):
    """A ``deployment_request`` matching rule for one pipeline of an app."""

    id: str
    org_id: str
    app_id: str
    pipeline_id: str
    trigger: str = "deployment_request"
    env_type: str | None = None
    match_app_id: str | None = None
    env_id: str | None = None
    deployment_type: str | None = None
    created_at: datetime = field(default_factory=now)


@dataclass
class LogLine(_Record):
    at: datetime
    level: str
    message: str
