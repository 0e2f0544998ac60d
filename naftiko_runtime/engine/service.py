"""The engine's operations, independent of any HTTP API.

Every API (Humanitec today, Inngest and the others in part 2) calls these methods and
projects the returned model objects; none of them touches the store directly.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TypeVar

from . import events
from .errors import BadRequest, Conflict, NotFound, PreconditionFailed, Unprocessable
from .events import EventBus
from .deliveries import Deliveries
from .executor import ENGINE_STOPPED, Executor
from .expressions import ExpressionError, render
from .ids import new_run_id
from .model import (
    JOB_TERMINAL, Approval, Criteria, Job, JobState, Pipeline, PipelineVersion, Run, RunState, now,
)
from .pipeline_yaml import PipelineDef, load_yaml, parse_pipeline, validate_inputs
from .store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

ORG_APP_ID = re.compile(r"^[a-z0-9](?:-?[a-z0-9]+)+$")
FIXTURES_DIR = Path(__file__).parent / "fixtures"
CRITERIA_FILE = "criteria.yaml"


def check_id(kind: str, value: str) -> str:
    if not ORG_APP_ID.match(value) or len(value) > 50:
        raise BadRequest(f"{kind} {value!r} is not a valid id (lowercase letters, digits and single dashes, max 50)")
    return value


def body_hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def etag_matches(if_match: str | None, etag: str) -> bool:
    if not if_match:
        return True
    for candidate in if_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/").strip('"') == etag:
            return True
    return False


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


class Engine:
    """Holds the store, bus and executor; everything an API needs to act on runs."""

    def __init__(self, db: str = ":memory:", pipelines_dir: str | Path | None = None,
                 allow_api_scripts: bool = False, delivery_attempts: int = 5, delivery_backoff: float = 0.5) -> None:
        self.store = Store(db)
        self.bus = EventBus()
        self.executor = Executor(self)
        self.deliveries = Deliveries(self, max_attempts=delivery_attempts, backoff=delivery_backoff)
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

    async def load_fixtures(self) -> None:
        """Load ``<dir>/<org>/<app>/*.yaml`` pipelines (and ``criteria.yaml``) as file pipelines."""
        root = self.pipelines_dir
        if not root.is_dir():
            return
        for org_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for app_dir in sorted(p for p in org_dir.iterdir() if p.is_dir()):
                org_id, app_id = org_dir.name, app_dir.name
                for path in sorted(list(app_dir.glob("*.yaml")) + list(app_dir.glob("*.yml"))):
                    if path.name == CRITERIA_FILE:
                        continue
                    try:
                        await self.put_pipeline(org_id, app_id, path.read_text(), default_id=path.stem, source="file")
                    except Exception as exc:
                        log.warning("skipping pipeline file %s: %s", path, exc)
                crit = app_dir / CRITERIA_FILE
                if crit.exists():
                    for item in load_yaml(crit.read_text()) or []:
                        item = dict(item)
                        pid = str(item.pop("pipeline"))
                        try:
                            await self.create_criteria(org_id, app_id, pid, item, allow_existing=True)
                        except Exception as exc:
                            log.warning("skipping criteria in %s: %s", crit, exc)

    # -- pipelines ---------------------------------------------------------------------------

    def definition(self, pipeline: Pipeline, version: str | None = None) -> PipelineDef:
        vid = version or pipeline.version
        if vid not in self._definitions:
            text = pipeline.definition
            if version and version != pipeline.version:
                text = self.get_version(pipeline, version).definition
            self._definitions[vid] = parse_pipeline(text)
        return self._definitions[vid]

    def get_pipeline(self, org_id: str, app_id: str, pipeline_id: str) -> Pipeline:
        check_id("org id", org_id)
        check_id("app id", app_id)
        pipeline = self.store.pipelines.get((org_id, app_id, pipeline_id))
        if pipeline is None:
            raise NotFound(f"pipeline {pipeline_id!r} not found in app {app_id!r} of org {org_id!r}")
        return pipeline

    def get_version(self, pipeline: Pipeline, version_id: str) -> PipelineVersion:
        for version in self.store.versions.get((pipeline.org_id, pipeline.app_id, pipeline.id), []):
            if version.id == version_id:
                return version
        raise NotFound(f"version {version_id!r} of pipeline {pipeline.id!r} not found")

    def list_versions(self, pipeline: Pipeline) -> list[PipelineVersion]:
        return list(reversed(self.store.versions.get((pipeline.org_id, pipeline.app_id, pipeline.id), [])))

    def list_pipelines(self, org_id: str, app_ids: list[str] | None = None, trigger: str | None = None,
                       metadata: dict[str, str] | None = None) -> list[Pipeline]:
        check_id("org id", org_id)
        out = []
        for (o, a, _), p in self.store.pipelines.items():
            if o != org_id or (app_ids and a not in app_ids) or (trigger and trigger not in p.trigger_types):
                continue
            if metadata and any(p.metadata.get(k) != v for k, v in metadata.items()):
                continue
            out.append(p)
        return sorted(out, key=lambda p: (p.app_id, p.created_at, p.id))

    async def put_pipeline(self, org_id: str, app_id: str, text: str, *, default_id: str | None = None,
                           source: str = "api", dry_run: bool = False, create_only: bool = False,
                           pipeline_id: str | None = None, if_match: str | None = None) -> Pipeline | None:
        """Create or update a pipeline from YAML text; a changed definition makes a new version."""
        check_id("org id", org_id)
        check_id("app id", app_id)
        defn = parse_pipeline(text)
        pid = pipeline_id or defn.id or default_id or _slug(defn.name)
        if pipeline_id and defn.id and defn.id != pipeline_id:
            raise BadRequest(f"the definition's id {defn.id!r} does not match the pipeline {pipeline_id!r}")
        existing = self.store.pipelines.get((org_id, app_id, pid))
        if create_only and existing is not None:
            raise Conflict(f"pipeline {pid!r} already exists in app {app_id!r}")
        if pipeline_id and existing is None:
            raise NotFound(f"pipeline {pipeline_id!r} not found in app {app_id!r} of org {org_id!r}")
        if existing is not None and not etag_matches(if_match, existing.etag):
            raise PreconditionFailed(f"pipeline {pid!r} has changed (ETag {existing.etag})")
        if dry_run:
            return None
        if existing is not None and existing.definition == text and existing.source == source:
            return existing
        version = PipelineVersion(id=str(uuid.uuid4()), org_id=org_id, app_id=app_id, pipeline_id=pid, definition=text)
        self._definitions[version.id] = defn
        if existing is None:
            pipeline = Pipeline(org_id=org_id, app_id=app_id, id=pid, name=defn.name, version=version.id,
                                definition=text, trigger_types=defn.trigger_types, metadata=defn.metadata,
                                source=source)
        else:
            pipeline = existing
            pipeline.name, pipeline.version, pipeline.definition = defn.name, version.id, text
            pipeline.trigger_types, pipeline.metadata, pipeline.source = defn.trigger_types, defn.metadata, source
            pipeline.revision += 1
        await self.store.save_pipeline(pipeline, version)
        self.bus.publish(events.PIPELINE_CHANGED, {"org_id": org_id, "app_id": app_id, "pipeline_id": pid})
        return pipeline

    async def delete_pipeline(self, org_id: str, app_id: str, pipeline_id: str, if_match: str | None = None) -> None:
        pipeline = self.get_pipeline(org_id, app_id, pipeline_id)
        if not etag_matches(if_match, pipeline.etag):
            raise PreconditionFailed(f"pipeline {pipeline_id!r} has changed (ETag {pipeline.etag})")
        runs = [r for r in self.store.runs.values()
                if (r.org_id, r.app_id, r.pipeline_id) == (org_id, app_id, pipeline_id)]
        if any(not r.terminal for r in runs):
            raise Conflict(f"pipeline {pipeline_id!r} has active runs; cancel them first")
        for run in runs:
            await self.store.delete_run(run.id)
        for crit in [c for c in self.store.criteria.values() if (c.org_id, c.app_id, c.pipeline_id) ==
                     (org_id, app_id, pipeline_id)]:
            await self.store.delete_criteria(crit.id)
        await self.store.delete_pipeline(org_id, app_id, pipeline_id)
        self.bus.publish(events.PIPELINE_CHANGED, {"org_id": org_id, "app_id": app_id, "pipeline_id": pipeline_id,
                                                   "deleted": True})

    # -- criteria ----------------------------------------------------------------------------

    async def create_criteria(self, org_id: str, app_id: str, pipeline_id: str, body: Any,
                              allow_existing: bool = False) -> Criteria:
        pipeline = self.get_pipeline(org_id, app_id, pipeline_id)
        if not isinstance(body, dict):
            raise Unprocessable("the criteria body must be a JSON object")
        if body.get("trigger") != "deployment_request":
            raise BadRequest("criteria 'trigger' must be 'deployment_request'")
        if "deployment_request" not in pipeline.trigger_types:
            raise BadRequest(f"pipeline {pipeline_id!r} has no deployment_request trigger")
        dtype = body.get("deployment_type")
        if dtype is not None and _deployment_type(dtype) is None:
            raise BadRequest("deployment_type must be 'deploy' or 'redeploy'")
        crit = Criteria(id=str(uuid.uuid4()), org_id=org_id, app_id=app_id, pipeline_id=pipeline_id,
                        env_type=body.get("env_type"), match_app_id=body.get("app_id"), env_id=body.get("env_id"),
                        deployment_type=_deployment_type(dtype) if dtype else None)
        for other in self.list_criteria(org_id, app_id):
            if _criteria_key(other) == _criteria_key(crit):
                if allow_existing and other.pipeline_id == pipeline_id:
                    return other
                raise Conflict(f"criteria clash with {other.id} of pipeline {other.pipeline_id!r}")
        await self.store.save_criteria(crit)
        return crit

    def list_criteria(self, org_id: str, app_id: str, pipeline_id: str | None = None) -> list[Criteria]:
        check_id("org id", org_id)
        check_id("app id", app_id)
        return sorted((c for c in self.store.criteria.values() if (c.org_id, c.app_id) == (org_id, app_id)
                       and (pipeline_id is None or c.pipeline_id == pipeline_id)), key=lambda c: c.created_at)

    def get_criteria(self, org_id: str, app_id: str, pipeline_id: str, criteria_id: str) -> Criteria:
        self.get_pipeline(org_id, app_id, pipeline_id)
        crit = self.store.criteria.get(criteria_id)
        if crit is None or (crit.org_id, crit.app_id, crit.pipeline_id) != (org_id, app_id, pipeline_id):
            raise NotFound(f"criteria {criteria_id!r} not found")
        return crit

    async def delete_criteria(self, org_id: str, app_id: str, pipeline_id: str, criteria_id: str) -> None:
        self.get_criteria(org_id, app_id, pipeline_id, criteria_id)
        await self.store.delete_criteria(criteria_id)

    # -- runs --------------------------------------------------------------------------------

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

    def _match_criteria(self, org_id: str, app_id: str, env_id: str, dtype: str) -> Criteria:
        best: tuple[int, Criteria] | None = None
        for crit in self.list_criteria(org_id, app_id):
            if crit.trigger != "deployment_request":
                continue
            if crit.deployment_type and crit.deployment_type != dtype:
                continue
            if crit.match_app_id and crit.match_app_id != app_id:
                continue
            if crit.env_id and crit.env_id != env_id:
                continue
            # Locally an environment's type is its id (development, staging, production…).
            if crit.env_type not in (None, "*") and crit.env_type != env_id:
                continue
            score = (4 if crit.env_id else 0) + (2 if crit.env_type not in (None, "*") else 0) \
                + (1 if crit.deployment_type else 0)
            if best is None or score > best[0]:
                best = (score, crit)
        if best is None:
            raise NotFound(f"no pipeline criteria in app {app_id!r} match a {dtype} request for environment {env_id!r}")
        return best[1]

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

    def step_logs(self, run: Run, job: Job, step_index: int):  # type: ignore[no-untyped-def]
        step = next((s for s in job.steps if s.index == step_index and s.state != JobState.SKIPPED), None)
        if step is None:
            raise NotFound(f"step {step_index} of job {job.job_id!r} has not run")
        return step, self.store.logs.get((run.id, job.job_id, step_index), [])

    # -- approvals ---------------------------------------------------------------------------

    def list_approvals(self, org_id: str, app_id: str, pipelines: list[str] | None = None,
                       runs: list[str] | None = None, status: str | None = None) -> list[Approval]:
        check_id("org id", org_id)
        check_id("app id", app_id)
        out = [a for a in self.store.approvals.values() if (a.org_id, a.app_id) == (org_id, app_id)
               and (not pipelines or a.pipeline_id in pipelines) and (not runs or a.run_id in runs)
               and (not status or a.status == status)]
        return sorted(out, key=lambda a: a.created_at, reverse=True)

    def get_approval(self, run: Run, job_id: str, approval_id: str) -> Approval:
        approval = self.store.approvals.get(approval_id)
        if approval is None or approval.run_id != run.id or approval.job_id != job_id:
            raise NotFound(f"approval {approval_id!r} not found")
        return approval

    async def decide_approval(self, approval: Approval, approve: bool, user: str = "local-user") -> Approval:
        if approval.status != "waiting":
            raise BadRequest(f"approval {approval.id!r} is {approval.status}, not waiting")
        approval.status = "approved" if approve else "denied"
        approval.approved_by, approval.approved_at = user, now()
        await self.store.save_approval(approval)
        self.bus.publish(events.APPROVAL_UPDATED, approval.to_dict())
        self.executor.resolve_approval(approval)
        return approval

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


def _deployment_type(value: Any) -> str | None:
    return {"deploy": "deploy", "redeploy": "redeploy", "re-deploy": "redeploy"}.get(str(value))


def _criteria_key(c: Criteria) -> tuple[Any, ...]:
    return (c.trigger, c.env_type or "*", c.match_app_id, c.env_id, c.deployment_type)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:50] or str(uuid.uuid4())


__all__ = ["Engine", "RunFilter", "check_id", "etag_matches"]
