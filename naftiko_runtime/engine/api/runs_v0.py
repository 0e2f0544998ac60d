"""The third pipeline-runs API (seed 002): ``/pipelines/v0/pipelines/{pipeline_id}/runs`` and
``/v0/runs``, in the ``{code, message, content}`` envelope (``code`` 0 on success, the HTTP
status on errors).

``pipeline_id`` is any engine pipeline: its plain id when unique across orgs and apps (seed-001
pipelines have UUIDs, the fixtures ``ci``, ``release``…), else ``org:app:id``. Lists answer
``content: {count, results}``. Statuses (notes §3): pending, queued, processing, running,
waiting, complete (all stages done, outcome being decided), success, failure, cancelled,
timeout, invalid (a pipeline with zero stages). ``PUT`` may only cancel an active run or
release a waiting one (``waiting → running`` approves its pending approvals); anything else
is 400. Timeouts are the pipeline's own ``timeout-minutes`` (seed 002's 21-day default is not
imposed on local runs).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..errors import BadRequest, NotFound
from ..model import JOB_TERMINAL, JobState, Pipeline, Run, RunState, iso
from ..service import Engine
from .bodies import json_body

PREFIXES = ("/pipelines/v0/", "/v0/")
STATUSES = ("pending", "queued", "processing", "running", "waiting", "complete", "success", "failure",
            "cancelled", "invalid", "timeout")
RUN_STATUS = {
    RunState.PENDING: "pending", RunState.QUEUED: "queued", RunState.PROCESSING: "processing",
    RunState.RUNNING: "running", RunState.WAITING: "waiting", RunState.SUCCEEDED: "success",
    RunState.FAILED: "failure", RunState.CANCELLED: "cancelled", RunState.TIMED_OUT: "timeout",
    RunState.INVALID: "invalid",
}
STEP_STATUS = {
    JobState.PENDING: "pending", JobState.QUEUED: "queued", JobState.RUNNING: "running",
    JobState.WAITING: "waiting", JobState.SUCCEEDED: "success", JobState.FAILED: "failure",
    JobState.CANCELLED: "cancelled", JobState.TIMED_OUT: "timeout", JobState.SKIPPED: "skipped",
}
ORDERING = ("run_number", "status", "pipeline__name", "started_at", "ended_at")
ACTIVE = ("pending", "queued", "processing", "running", "waiting", "complete")


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {"code": status, "message": message, "content": {}}


def ok(content: Any, message: str = "OK", status: int = 200) -> web.Response:
    return web.json_response({"code": 0, "message": message, "content": content}, status=status)


class RunsV0API:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[web.RouteDef]:
        r = "/pipelines/v0/pipelines/{pipeline}/runs"
        return [
            web.get("/v0/runs", self.list_all),
            web.get(r, self.list_for_pipeline),
            web.post(r, self.create),
            web.get(r + "/{run}", self.get),
            web.put(r + "/{run}", self.put),
            web.delete(r + "/{run}", self.delete),
        ]

    # -- projection ------------------------------------------------------------------------

    def status(self, run: Run) -> str:
        if run.state == RunState.RUNNING:
            jobs = self.engine.store.jobs.get(run.id, {}).values()
            if jobs and all(j.state in JOB_TERMINAL for j in jobs):
                return "complete"  # every stage processed, success/failure not yet recorded
        return RUN_STATUS[RunState(run.state)]

    def run_doc(self, run: Run) -> dict[str, Any]:
        pipeline = self.engine.store.pipelines.get((run.org_id, run.app_id, run.pipeline_id))
        stages = []
        for job in self.engine.list_jobs(run):
            for step in job.steps:
                stages.append({"job": job.job_id, "index": step.index, "name": step.name,
                               "status": STEP_STATUS[JobState(step.state)], "started_at": iso(step.created_at),
                               "ended_at": iso(step.completed_at), "message": step.status_message})
        return {
            "id": run.id, "run_number": run.number, "pipeline_id": run.pipeline_id,
            "pipeline_ref": f"{run.org_id}:{run.app_id}:{run.pipeline_id}",
            "pipeline_name": pipeline.name if pipeline else run.pipeline_id, "status": self.status(run),
            "status_message": run.status_message, "trigger": run.trigger, "triggered_by": run.created_by,
            "inputs": run.inputs, "created_at": iso(run.created_at), "started_at": iso(run.started_at),
            "ended_at": iso(run.completed_at) if run.terminal else None, "updated_at": iso(run.updated_at),
            "stages": stages,
        }

    # -- lookups ---------------------------------------------------------------------------

    def pipeline(self, ref: str) -> Pipeline:
        if ref.count(":") == 2:
            org, app, pid = ref.split(":")
            found = self.engine.store.pipelines.get((org, app, pid))
            matches = [found] if found else []
        else:
            matches = [p for key, p in self.engine.store.pipelines.items() if key[2] == ref]
        if not matches:
            raise NotFound(f"pipeline {ref!r} not found")
        if len(matches) > 1:
            refs = ", ".join(sorted(f"{p.org_id}:{p.app_id}:{p.id}" for p in matches))
            raise BadRequest(f"pipeline id {ref!r} is ambiguous; use one of {refs}")
        return matches[0]

    def _run(self, request: web.Request) -> Run:
        pipeline = self.pipeline(request.match_info["pipeline"])
        run = self.engine.find_run(request.match_info["run"])
        if run is None or (run.org_id, run.app_id, run.pipeline_id) != (pipeline.org_id, pipeline.app_id, pipeline.id):
            raise NotFound(f"run {request.match_info['run']!r} not found in pipeline {pipeline.id!r}")
        return run

    # -- lists -----------------------------------------------------------------------------

    def _listing(self, request: web.Request, runs: list[Run], allow_name: bool) -> web.Response:
        status = request.query.get("status")
        if status is not None:
            if status not in STATUSES:
                raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
            runs = [r for r in runs if self.status(r) == status]
        name = request.query.get("pipeline_name")
        if name is not None and allow_name:
            names = {key: p.name for key, p in self.engine.store.pipelines.items()}
            runs = [r for r in runs if names.get((r.org_id, r.app_id, r.pipeline_id)) == name]
        ordering = request.query.get("ordering")
        runs = sorted(runs, key=lambda r: r.seq, reverse=True)  # default: newest first
        if ordering:
            field = ordering.removeprefix("-")
            allowed = ORDERING if allow_name else tuple(f for f in ORDERING if f != "pipeline__name")
            if field not in allowed:
                raise BadRequest(f"ordering must be one of {', '.join(allowed)}, optionally prefixed with '-'")
            runs = self._order(runs, field, ordering.startswith("-"))
        docs = [self.run_doc(r) for r in runs]
        return ok({"count": len(docs), "results": docs})

    def _order(self, runs: list[Run], field: str, descending: bool) -> list[Run]:
        def value(run: Run) -> Any:
            if field == "run_number":
                return run.number
            if field == "status":
                return self.status(run)
            if field == "pipeline__name":
                p = self.engine.store.pipelines.get((run.org_id, run.app_id, run.pipeline_id))
                return p.name if p else run.pipeline_id
            ts = run.started_at if field == "started_at" else (run.completed_at if run.terminal else None)
            return ts

        present = [r for r in runs if value(r) is not None]
        missing = [r for r in runs if value(r) is None]  # no value yet: always last
        present.sort(key=lambda r: (value(r), r.seq), reverse=descending)
        return present + missing

    async def list_all(self, request: web.Request) -> web.Response:
        return self._listing(request, list(self.engine.store.runs.values()), allow_name=True)

    async def list_for_pipeline(self, request: web.Request) -> web.Response:
        p = self.pipeline(request.match_info["pipeline"])
        runs = [r for r in self.engine.store.runs.values() if (r.org_id, r.app_id, r.pipeline_id) == (p.org_id, p.app_id, p.id)]
        return self._listing(request, runs, allow_name=False)

    # -- one run ---------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body = await json_body(request, required=False)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return body

    async def create(self, request: web.Request) -> web.Response:
        p = self.pipeline(request.match_info["pipeline"])
        body = await self._body(request)
        inputs = body.get("inputs", {k: v for k, v in body.items() if k not in ("inputs",)})
        run, _ = await self.engine.create_run(p.org_id, p.app_id, p.id, {"inputs": inputs or {}},
                                              idempotency_key=request.headers.get("Idempotency-Key"),
                                              created_by=request.headers.get("X-Naftiko-User", "local-user"))
        assert run is not None
        return ok(self.run_doc(run), "Pipeline run created")

    async def get(self, request: web.Request) -> web.Response:
        return ok(self.run_doc(self._run(request)))

    async def put(self, request: web.Request) -> web.Response:
        run = self._run(request)
        body = await self._body(request)
        target = body.get("status")
        if target not in STATUSES:
            raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
        current = self.status(run)
        if target == "cancelled" and current in ACTIVE:
            await self.engine.cancel_run(run)
            doc = await self.engine.watch_run(run, lambda r: r.terminal, self.run_doc)
            return ok(doc, "Pipeline run cancelled")
        if target == "running" and current == "waiting":
            pending = [a for a in self.engine.store.approvals.values() if a.run_id == run.id and a.status == "waiting"]
            for approval in pending:
                await self.engine.decide_approval(approval, True, request.headers.get("X-Naftiko-User", "local-user"))
            doc = await self.engine.watch_run(run, lambda r: r.state != RunState.WAITING, self.run_doc)
            return ok(doc, "Pipeline run resumed")
        raise BadRequest(f"a run cannot be moved from {current} to {target}: only an active run can be "
                         "cancelled, and only a waiting run can be set running")

    async def delete(self, request: web.Request) -> web.Response:
        run = self._run(request)
        if not run.terminal:
            raise BadRequest(f"run {run.id!r} is {self.status(run)}; only finished runs can be deleted")
        doc = self.run_doc(run)
        await self.engine.delete_run(run)
        return ok(doc, "Pipeline run deleted")
