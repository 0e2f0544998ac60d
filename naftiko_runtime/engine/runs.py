"""Runs: start (any trigger), watch, look up, list, cancel, delete, restart; their jobs and logs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from . import events
from .errors import BadRequest, Conflict, NotFound, PreconditionFailed, Unprocessable
from .events import EventBus
from .executor import Executor
from .expressions import ExpressionError, render
from .guards import body_hash, check_id, etag_matches
from .ids import new_run_id
from .model import Job, JobState, Pipeline, Run, RunState, now
from .pipeline_yaml import PipelineDef, validate_inputs
from .store import Store

T = TypeVar("T")


@dataclass
class RunFilter:
    org_id: str
    app_ids: list[str] | None = None
    pipeline_ids: list[str] | None = None
    statuses: list[str] | None = None  # internal states
    env: str | None = None
    completed: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


class Runs:
    """The run part of the ``Engine`` (mixed into it; pipelines and criteria come from their mixins)."""

    store: Store
    bus: EventBus
    executor: Executor
    allow_api_scripts: bool

    def _submit(self, run: Run) -> None:
        pipeline = self.get_pipeline(run.org_id, run.app_id, run.pipeline_id)
        try:
            defn = self.definition(pipeline, run.pipeline_version)
        except NotFound:
            defn = self.definition(pipeline)
        self.executor.submit(run, defn, allow_script=pipeline.source == "file" or self.allow_api_scripts)

    async def create_run(self, org_id: str, app_id: str, pipeline_id: str, body: Any, *,
                         idempotency_key: str | None = None, dry_run: bool = False,
                         created_by: str = "local-user") -> tuple[Run | None, bool]:
        """Start a ``pipeline_call`` run. Returns (run, created); (None, False) for a dry run."""
        pipeline = self.get_pipeline(org_id, app_id, pipeline_id)
        if not isinstance(body, dict):
            raise Unprocessable("the body must be a JSON object with 'inputs'")
        if "inputs" not in body:
            raise BadRequest("'inputs' is required (use {} when the pipeline takes none)")
        defn = self.definition(pipeline)
        if "pipeline_call" not in defn.on:
            raise BadRequest(f"pipeline {pipeline_id!r} cannot be called directly (no pipeline_call trigger)")
        inputs = validate_inputs(defn, body["inputs"])
        return await self.start_run(pipeline, defn, "pipeline_call", inputs, idempotency_key,
                                   body_hash("run", pipeline_id, body), dry_run, created_by)

    async def create_run_by_trigger(self, org_id: str, app_id: str, body: Any, *,
                                    idempotency_key: str | None = None, dry_run: bool = False,
                                    created_by: str = "local-user") -> tuple[Run | None, bool]:
        """Start a run in the pipeline whose criteria best match a ``deployment_request``."""
        check_id("org id", org_id)
        check_id("app id", app_id)
        if not isinstance(body, dict):
            raise Unprocessable("the body must be a JSON object")
        if body.get("trigger") != "deployment_request":
            raise BadRequest("'trigger' must be 'deployment_request'")
        env_id = body.get("env_id") or body.get("environment")
        if not isinstance(env_id, str) or not env_id:
            raise BadRequest("'env_id' is required")
        refs = [k for k in ("delta_id", "deployment_id", "set_id") if body.get(k)]
        if len(refs) != 1:
            raise BadRequest("exactly one of 'delta_id', 'deployment_id' or 'set_id' is required")
        if body.get("value_set_version_id") and refs[0] == "deployment_id":
            raise BadRequest("'value_set_version_id' is only allowed with 'delta_id' or 'set_id'")
        dtype = "redeploy" if refs[0] == "deployment_id" else "deploy"
        crit = self._match_criteria(org_id, app_id, env_id, dtype)
        pipeline = self.get_pipeline(org_id, app_id, crit.pipeline_id)
        defn = self.definition(pipeline)
        inputs: dict[str, Any] = {"env_id": env_id, "comment": str(body.get("comment") or ""), refs[0]: body[refs[0]]}
        if body.get("value_set_version_id"):
            inputs["value_set_version_id"] = body["value_set_version_id"]
        return await self.start_run(pipeline, defn, "deployment_request", inputs, idempotency_key,
                                   body_hash("trigger", body), dry_run, created_by)

    async def start_run(self, pipeline: Pipeline, defn: PipelineDef, trigger: str, inputs: dict[str, Any],
                       idempotency_key: str | None, digest: str, dry_run: bool, created_by: str,
                       restarted_from: str | None = None, event_id: str | None = None) -> tuple[Run | None, bool]:
        """Queue a run of ``pipeline`` for any trigger (inputs already validated) and start it.

        The common path for every API (part 2's event triggers and stage pipelines too):
        idempotency, concurrency group, commit before returning, then hand-off to the executor.
        """
        scope = f"{pipeline.org_id}/{pipeline.app_id}"
        if idempotency_key:
            seen = self.store.idempotency.get((scope, idempotency_key))
            if seen is not None:
                if seen[0] != digest:
                    raise Conflict(f"Idempotency-Key {idempotency_key!r} was already used with a different request")
                existing = self.store.runs.get(seen[1])
                if existing is not None:
                    return existing, False
        group = None
        if defn.concurrency_group:
            try:
                group = str(render(defn.concurrency_group, {"inputs": inputs, "pipeline": {"id": pipeline.id}}))
            except ExpressionError as exc:
                raise BadRequest(f"bad concurrency group expression: {exc}") from exc
        if dry_run:
            return None, False
        number = 1 + max((r.number for r in self.store.runs.values()
                          if (r.org_id, r.app_id, r.pipeline_id) == (pipeline.org_id, pipeline.app_id, pipeline.id)),
                         default=0)
        run = Run(id=new_run_id(), seq=self.store.next_seq(), org_id=pipeline.org_id, app_id=pipeline.app_id,
                  pipeline_id=pipeline.id, pipeline_version=pipeline.version, trigger=trigger, inputs=inputs,
                  created_by=created_by, timeout_seconds=defn.timeout_seconds, concurrency_group=group,
                  source=pipeline.source, restarted_from=restarted_from, job_order=defn.job_order(),
                  number=number, event_id=event_id)
        if isinstance(inputs.get("env_id"), str):
            run.env_ids.append(inputs["env_id"])
        if defn.empty:  # a stage pipeline with zero stages: nothing to run (seed 002's `invalid`)
            run.move(RunState.INVALID, "The pipeline has no stages")
            if idempotency_key:
                self.store.idempotency[(scope, idempotency_key)] = (digest, run.id)
            await self.store.save_run(run, idempotency=(scope, idempotency_key, digest) if idempotency_key else None)
            self.bus.publish(events.RUN_CREATED, {"run_id": run.id, "org_id": run.org_id, "app_id": run.app_id,
                                                  "pipeline_id": run.pipeline_id})
            self.bus.publish(events.RUN_UPDATED, {"run_id": run.id, "state": str(run.state)})
            return run, True
        run.move(RunState.QUEUED, "Queued")
        if idempotency_key:  # reserve before the first await so a concurrent repeat sees it
            self.store.idempotency[(scope, idempotency_key)] = (digest, run.id)
        await self.store.save_run(run, idempotency=(scope, idempotency_key, digest) if idempotency_key else None)
        self.bus.publish(events.RUN_CREATED, {"run_id": run.id, "org_id": run.org_id, "app_id": run.app_id,
                                              "pipeline_id": run.pipeline_id})
        self._submit(run)
        return run, True

    async def watch_run(self, run: Run, done: Callable[[Run], bool], render: Callable[[Run], T],
                        timeout: float = 10.0) -> T:
        """``render(run)`` at the first moment ``done(run)`` holds (checked on every bus event),
        or as it is after ``timeout``. Lets an API answer with the state an action led to."""
        if done(run):
            return render(run)
        snapshot: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        def check(_event: events.Event) -> None:
            if not snapshot.done() and done(run):
                snapshot.set_result(render(run))

        off = self.bus.on(check)
        try:
            return await asyncio.wait_for(snapshot, timeout)
        except TimeoutError:
            return render(run)
        finally:
            off()

    def get_run(self, org_id: str, app_id: str, pipeline_id: str, run_id: str) -> Run:
        self.get_pipeline(org_id, app_id, pipeline_id)
        run = self.store.runs.get(run_id)
        if run is None or (run.org_id, run.app_id, run.pipeline_id) != (org_id, app_id, pipeline_id):
            raise NotFound(f"run {run_id!r} not found in pipeline {pipeline_id!r}")
        return run

    def find_run(self, run_id: str) -> Run | None:
        return self.store.runs.get(run_id)

    def list_runs(self, f: RunFilter) -> list[Run]:
        """Runs matching the filter, newest first."""
        check_id("org id", f.org_id)
        out = []
        for run in self.store.runs.values():
            if run.org_id != f.org_id:
                continue
            if f.app_ids and run.app_id not in f.app_ids:
                continue
            if f.pipeline_ids and run.pipeline_id not in f.pipeline_ids:
                continue
            if f.statuses is not None and run.state not in f.statuses:
                continue
            if f.env and f.env not in run.env_ids:
                continue
            if f.completed is not None and run.terminal != f.completed:
                continue
            if f.created_after and run.created_at <= f.created_after:
                continue
            if f.created_before and run.created_at >= f.created_before:
                continue
            out.append(run)
        return sorted(out, key=lambda r: r.seq, reverse=True)

    async def cancel_run(self, run: Run, if_match: str | None = None) -> None:
        """Queued: cancelled at once. Executing: recorded, then stopped in flight. Cancelled: no-op."""
        if not etag_matches(if_match, run.etag):
            raise PreconditionFailed(f"run {run.id!r} has changed (ETag {run.etag})")
        if run.state in (RunState.CANCELLED, RunState.TIMED_OUT):
            return
        if run.terminal:
            raise Conflict(f"run {run.id!r} is already {run.state} and cannot be cancelled")
        run.cancellation_requested_at = run.cancellation_requested_at or now()
        if run.state in (RunState.PENDING, RunState.QUEUED):
            run.move(RunState.CANCELLED, "Cancelled on request before it started")
            await self.store.save_run(run)
            self.bus.publish(events.RUN_UPDATED, {"run_id": run.id, "state": str(run.state)})
            self.executor.stop(run.id, "cancel")
            return
        run.touch()
        await self.store.save_run(run)
        if not self.executor.stop(run.id, "cancel"):  # nothing executes it (should not happen): settle now
            await self.executor._finish_stopped(run)

    async def delete_run(self, run: Run, if_match: str | None = None) -> None:
        if not etag_matches(if_match, run.etag):
            raise PreconditionFailed(f"run {run.id!r} has changed (ETag {run.etag})")
        if not run.terminal:
            raise Conflict(f"run {run.id!r} is {run.state}; only completed runs can be deleted")
        await self.store.delete_run(run.id)
        self.bus.publish(events.RUN_DELETED, {"run_id": run.id})

    async def restart_run(self, run: Run, *, idempotency_key: str | None = None,
                          created_by: str = "local-user") -> tuple[Run | None, bool]:
        if not run.terminal:
            raise Conflict(f"run {run.id!r} is {run.state}; only completed runs can be restarted")
        pipeline = self.get_pipeline(run.org_id, run.app_id, run.pipeline_id)
        defn = self.definition(pipeline)
        return await self.start_run(pipeline, defn, run.trigger, dict(run.inputs), idempotency_key,
                                   body_hash("restart", run.id), False, created_by, restarted_from=run.id)

    # -- jobs, steps, logs -------------------------------------------------------------------

    def list_jobs(self, run: Run) -> list[Job]:
        jobs = self.store.jobs.get(run.id, {})
        order = {jid: i for i, jid in enumerate(run.job_order)}
        return sorted(jobs.values(), key=lambda j: order.get(j.job_id, len(order)))

    def get_job(self, run: Run, job_id: str) -> Job:
        job = self.store.jobs.get(run.id, {}).get(job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} not found in run {run.id!r}")
        return job

    def step_logs(self, run: Run, job: Job, step_index: int):
        step = next((s for s in job.steps if s.index == step_index and s.state != JobState.SKIPPED), None)
        if step is None:
            raise NotFound(f"step {step_index} of job {job.job_id!r} has not run")
        return step, self.store.logs.get((run.id, job.job_id, step_index), [])
