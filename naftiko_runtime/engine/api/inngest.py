"""Inngest REST API v1 (seed 004, backends-notes §2) over the same runs.

Run ids: the engine keeps one id per run, a UUIDv7; Inngest sees the same 128 bits spelled as
a 26-character ULID (``ids.run_ulid``), which decodes back losslessly. Responses use the
``{data, metadata}`` envelope, errors ``{error, status, data, code}``. Cancelling an ended run
is a silent 200, as upstream. ``POST /e/{eventKey}`` sends events (see ``event_triggers``).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..errors import BadRequest, NotFound, Unprocessable
from ..event_triggers import EVENTS, event_runs, get_event, send_event
from ..ids import is_ulid, run_ulid, stable_uuid, uuid_from_ulid
from ..model import Job, JobState, Run, RunState, Step, iso, now
from ..service import Engine

PREFIXES = ("/v1/runs", "/v1/events", "/e/")

RUN_STATUS = {
    RunState.PENDING: "Scheduled", RunState.QUEUED: "Scheduled", RunState.PROCESSING: "Running",
    RunState.RUNNING: "Running", RunState.WAITING: "Running", RunState.SUCCEEDED: "Completed",
    RunState.FAILED: "Failed", RunState.CANCELLED: "Cancelled", RunState.TIMED_OUT: "Cancelled",
    RunState.INVALID: "Failed",
}
STEP_STATUS = {
    JobState.PENDING: "Scheduled", JobState.QUEUED: "Scheduled", JobState.RUNNING: "Running",
    JobState.WAITING: "Waiting", JobState.SUCCEEDED: "Completed", JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled", JobState.TIMED_OUT: "TimedOut", JobState.SKIPPED: "Skipped",
}


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message, "status": status, "data": None}
    if code:
        body["code"] = code
    return body


def envelope(data: Any) -> web.Response:
    return web.json_response({"data": data, "metadata": {"fetched_at": iso(now())}})


class InngestAPI:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/runs/{run}", self.get_run),
            web.delete("/v1/runs/{run}", self.cancel),
            web.post("/v1/runs/{run}/cancel", self.cancel),
            web.get("/v1/runs/{run}/jobs", self.jobs),
            web.get("/v1/events", self.list_events),
            web.get("/v1/events/{event}", self.get_event),
            web.get("/v1/events/{event}/runs", self.event_runs),
            web.post("/e/{key}", self.send),
        ]

    # -- projections -----------------------------------------------------------------------

    def run_doc(self, run: Run) -> dict[str, Any]:
        versions = self.engine.store.versions.get((run.org_id, run.app_id, run.pipeline_id), [])
        version = next((i + 1 for i, v in enumerate(versions) if v.id == run.pipeline_version), len(versions))
        started = iso(run.started_at or run.created_at)
        output: Any = None
        if run.state == RunState.SUCCEEDED:
            output = {j.job_id: j.outputs for j in self.engine.list_jobs(run)}
        elif run.terminal:
            output = {"error": run.status_message}
        return {
            "run_id": run_ulid(run.id), "run_started_at": started, "started_at": started,
            "ended_at": iso(run.completed_at) if run.terminal else None,
            "function_id": stable_uuid(run.org_id, run.app_id, run.pipeline_id), "function_version": version,
            "environment_id": stable_uuid(run.org_id), "app_id": run.app_id,
            "event_id": run.event_id, "batch_id": None,
            "original_run_id": run_ulid(run.restarted_from) if run.restarted_from else None, "cron": None,
            "status": RUN_STATUS[RunState(run.state)], "output": output,
            # engine extension: where the same run lives in the other APIs
            "naftiko": {"id": run.id, "org_id": run.org_id, "app_id": run.app_id, "pipeline_id": run.pipeline_id},
        }

    def step_doc(self, job: Job, step: Step, position: int) -> dict[str, Any]:
        ended = iso(step.completed_at)
        return {
            "id": f"{job.job_id}.{step.index}", "JobID": f"{job.job_id}.{step.index}", "name": step.name,
            "status": STEP_STATUS[JobState(step.state)], "started_at": iso(step.created_at), "ended_at": ended,
            "output": dict(step.outputs) or (step.status_message if step.state == JobState.FAILED else None),
            "attempt": 0, "kind": "step", "at": iso(step.created_at), "position": position,
            "Raw": {"job": job.job_id, "index": step.index, "uses": step.uses},
        }

    # -- runs ------------------------------------------------------------------------------

    def _run(self, request: web.Request) -> Run:
        raw = request.match_info["run"]
        if not is_ulid(raw):
            raise BadRequest(f"invalid run id {raw!r}: expected a ULID")
        run = self.engine.find_run(uuid_from_ulid(raw))
        if run is None:
            raise NotFound(f"Unable to load function run: {raw}")
        return run

    async def get_run(self, request: web.Request) -> web.Response:
        return envelope(self.run_doc(self._run(request)))

    async def cancel(self, request: web.Request) -> web.Response:
        run = self._run(request)
        if not run.terminal:
            await self.engine.cancel_run(run)
        return web.Response(status=200)

    async def jobs(self, request: web.Request) -> web.Response:
        run = self._run(request)
        out, position = [], 0
        for job in self.engine.list_jobs(run):
            for step in job.steps:
                out.append(self.step_doc(job, step, position))
                position += 1
        return envelope(out)

    # -- events ----------------------------------------------------------------------------

    def _event(self, request: web.Request) -> dict[str, Any]:
        raw = request.match_info["event"]
        doc = get_event(self.engine, raw) if is_ulid(raw) else None
        if doc is None:
            raise NotFound(f"event not found: {raw}")
        return doc

    @staticmethod
    def event_doc(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k != "run_ids"}

    async def list_events(self, request: web.Request) -> web.Response:
        docs = list(reversed(self.engine.store.docs[EVENTS].values()))
        name = request.query.get("name")
        if name:
            docs = [d for d in docs if d["name"] == name]
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            raise BadRequest("'limit' must be an integer") from None
        return envelope([self.event_doc(d) for d in docs[:max(1, min(limit, 100))]])

    async def get_event(self, request: web.Request) -> web.Response:
        return envelope(self.event_doc(self._event(request)))

    async def event_runs(self, request: web.Request) -> web.Response:
        doc = self._event(request)
        return envelope([self.run_doc(r) for r in event_runs(self.engine, doc["internal_id"])])

    async def send(self, request: web.Request) -> web.Response:
        text = await request.text()
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError as exc:
            raise Unprocessable(f"the body is not valid JSON: {exc}") from exc
        if body is None:
            raise BadRequest("send an event {name, data} or a list of events")
        items = body if isinstance(body, list) else [body]
        ids = [await send_event(self.engine, item) for item in items]
        return web.json_response({"ids": ids, "status": 200})
