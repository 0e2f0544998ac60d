"""The engine's operations, independent of any HTTP API.

Every API (Humanitec, Inngest, seed 001, seed 002) calls these methods and projects the
returned model objects; none of them touches the store directly.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from . import events
from .approvals import Approvals
from .criteria import CriteriaRules
from .deliveries import Deliveries
from .events import EventBus
from .executor import ENGINE_STOPPED, Executor
from .fixtures import FIXTURES_DIR, Fixtures
from .guards import check_id, etag_matches
from .model import JOB_TERMINAL, JobState, RunState, now
from .pipeline_yaml import PipelineDef
from .pipelines import Pipelines
from .runs import RunFilter, Runs
from .store import Store

log = logging.getLogger(__name__)


class Engine(Pipelines, CriteriaRules, Runs, Approvals, Fixtures):
    """Holds the store, bus and executor; everything an API needs to act on runs.

    Its operations live in one mixin per thing they act on (``pipelines``, ``criteria``, ``runs``,
    ``approvals``, ``fixtures``); this class owns the shared state and the lifecycle."""

    def __init__(self, db: str = ":memory:", pipelines_dir: str | Path | None = None,
                 allow_api_scripts: bool = False, delivery_attempts: int = 5, delivery_backoff: float = 0.5) -> None:
        self.store = Store(db)
        self.bus = EventBus()
        self.executor = Executor(self.store, self.bus)
        self.deliveries = Deliveries(self.store, self.bus, max_attempts=delivery_attempts, backoff=delivery_backoff)
        self.pipelines_dir = Path(pipelines_dir) if pipelines_dir is not None else FIXTURES_DIR
        self.allow_api_scripts = allow_api_scripts
        self._definitions: dict[str, PipelineDef] = {}  # version id -> parsed definition
        self.started_at = now()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.open()
        await self._reconcile()
        await self.load_fixtures()
        for run in sorted(self.store.runs.values(), key=lambda r: r.seq):
            if run.state in (RunState.PENDING, RunState.QUEUED):
                self._submit(run)  # accepted but never started: run it now
        self.deliveries.resume()

    async def close(self) -> None:
        await self.executor.shutdown()
        await self.deliveries.stop()
        await self.store.close()

    async def reset(self) -> None:
        """Stop everything, forget all state (webhooks and deliveries too), reload the fixtures."""
        await self.executor.shutdown()
        await self.deliveries.stop()
        await self.store.reset()
        self._definitions.clear()
        self.executor.groups.clear()
        await self.load_fixtures()
        self.bus.publish(events.ENGINE_RESET, {})

    async def _reconcile(self) -> None:
        """Runs that were executing when the engine died end ``failed``; their work is gone."""
        for run in self.store.runs.values():
            if run.state not in (RunState.PROCESSING, RunState.RUNNING, RunState.WAITING):
                continue
            for job in self.store.jobs.get(run.id, {}).values():
                if job.state not in JOB_TERMINAL:
                    for step in job.steps:
                        if step.state not in JOB_TERMINAL:
                            step.state, step.status_message, step.completed_at = JobState.FAILED, ENGINE_STOPPED, now()
                    job.state, job.status_message, job.completed_at = JobState.FAILED, ENGINE_STOPPED, now()
                    job.waiting_for = None
                    job.touch()
                    await self.store.save_jobs(job)
            for approval in self.store.approvals.values():
                if approval.run_id == run.id and approval.status == "waiting":
                    approval.status = "cancelled"
                    await self.store.save_approval(approval)
            run.move(RunState.FAILED, ENGINE_STOPPED)
            await self.store.save_run(run)

    # -- introspection -----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """A read-only summary for tests and curious humans."""
        by_state: dict[str, int] = {}
        for run in self.store.runs.values():
            by_state[run.state] = by_state.get(run.state, 0) + 1
        return {
            "db": self.store.path,
            "pipelines_dir": str(self.pipelines_dir),
            "started_at": self.started_at.isoformat(),
            "pipelines": [{"org_id": p.org_id, "app_id": p.app_id, "id": p.id, "version": p.version,
                           "source": p.source, "trigger_types": p.trigger_types}
                          for p in self.store.pipelines.values()],
            "criteria": [c.to_dict() for c in self.store.criteria.values()],
            "runs": {"total": len(self.store.runs), "by_state": by_state,
                     "executing": sorted(self.executor.tasks)},
            "approvals": {"waiting": sum(a.status == "waiting" for a in self.store.approvals.values()),
                          "total": len(self.store.approvals)},
            "idempotency_keys": len(self.store.idempotency),
            "webhooks": len(self.store.docs["webhooks"]),
            "deliveries": {status: sum(d["status"] == status for d in self.store.docs["deliveries"].values())
                           for status in ("pending", "delivered", "failed")},
            "events": len(self.store.docs["events"]),
        }


__all__ = ["FIXTURES_DIR", "Engine", "RunFilter", "check_id", "etag_matches"]
