"""The generic Pipelines API (seed 001) under ``/api/v1/pipelines``, plus its live events.

A seed-001 pipeline is stored as a Humanitec pipeline in org ``local``, app ``pipelines``
(``STAGE_ORG``/``STAGE_APP``): one job ``main`` with one step per stage, in ``order``; the
seed's own fields (description, stages, organizationId…) ride along under a root ``x-stages``
key of the YAML, so every API sees the same pipeline and its runs.

Stage types map to actions: script → ``script`` (``run``), approval → ``approve``, deploy →
``deploy`` (``env_id`` ← environmentId, ``component`` ← componentId), notify → ``notify``.
Scripts of these (API-created) pipelines run only when the engine has ``--allow-api-scripts``.

Live events: a plain WebSocket at ``GET /events`` (the seed names Socket.IO's ``/events``
namespace; the engine speaks plain WebSocket to stay dependency-free). Each message is JSON
``{"event": "pipeline.log", "data": {runId, stage, stageName, message}}`` or
``{"event": "pipeline.run.updated", "data": <PipelineRun>}`` (sent when the seed status
changes). ``?runId=`` / ``?pipelineId=`` narrow the stream; the first message is
``{"event": "subscribed", …}``, sent once the subscription is live.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from .. import events
from ..errors import BadRequest, Conflict, NotFound
from ..events import Event
from ..model import JobState, Pipeline, Run, RunState, iso, now
from ..pipeline_yaml import load_yaml
from ..service import Engine
from .bodies import json_body
from .pipelines_v1_stages import (
    RUN_LIMIT,
    RUN_STATUS,
    STAGE_APP,
    STAGE_ORG,
    STAGE_STATUS,
    _require_admin,
    _stages,
    _user,
    definition_yaml,
)


class PipelinesV1API:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._meta: dict[str, dict[str, Any]] = {}  # version id -> x-stages
        self.subscribers: set[tuple[asyncio.Queue[dict[str, Any]], Callable[[dict[str, Any]], bool]]] = set()
        self.last_status: dict[str, str] = {}
        engine.bus.on(self._on_event)

    def routes(self) -> list[web.RouteDef]:
        b = "/api/v1/pipelines"
        r = b + "/{pipeline}/runs/{run}"
        return [
            web.get("/events", self.websocket),
            web.get(b, self.list_pipelines),
            web.post(b, self.create_pipeline),
            web.get(b + "/{pipeline}", self.get_pipeline),
            web.patch(b + "/{pipeline}", self.update_pipeline),
            web.delete(b + "/{pipeline}", self.delete_pipeline),
            web.post(b + "/{pipeline}/trigger", self.trigger),
            web.get(b + "/{pipeline}/runs", self.list_runs),
            web.get(r, self.get_run),
            web.post(r + "/approve", self.approve),
            web.post(r + "/reject", self.reject),
            web.post(r + "/cancel", self.cancel),
        ]

    # -- model access ----------------------------------------------------------------------

    def meta(self, pipeline: Pipeline, version: str | None = None) -> dict[str, Any]:
        vid = version or pipeline.version
        if vid not in self._meta:
            text = pipeline.definition
            if vid != pipeline.version:
                try:
                    text = self.engine.get_version(pipeline, vid).definition
                except NotFound:
                    pass
            self._meta[vid] = (load_yaml(text) or {}).get("x-stages") or {}
        return self._meta[vid]

    def stage_pipelines(self) -> list[Pipeline]:
        return [p for (o, a, _), p in self.engine.store.pipelines.items()
                if (o, a) == (STAGE_ORG, STAGE_APP) and "x-stages" in p.definition and self.meta(p)]

    def pipeline(self, pid: str) -> Pipeline:
        pipeline = self.engine.store.pipelines.get((STAGE_ORG, STAGE_APP, pid))
        if pipeline is None or not self.meta(pipeline):
            raise NotFound(f"pipeline {pid} not found")
        return pipeline

    def pipeline_doc(self, p: Pipeline) -> dict[str, Any]:
        m = self.meta(p)
        return {"id": p.id, "name": m["name"], "description": m.get("description"), "stages": m["stages"],
                "organizationId": m.get("organizationId"), "createdBy": m.get("createdBy"),
                "createdAt": m.get("createdAt"), "updatedAt": m.get("updatedAt")}

    def run_doc(self, run: Run) -> dict[str, Any]:
        pipeline = self.engine.store.pipelines.get((run.org_id, run.app_id, run.pipeline_id))
        stages = self.meta(pipeline, run.pipeline_version).get("stages", []) if pipeline else []
        job = self.engine.store.jobs.get(run.id, {}).get("main")
        steps = {s.index: s for s in job.steps} if job else {}
        logs, results = [], []
        for index, stage in enumerate(stages):
            lines = [line.message for line in self.engine.store.logs.get((run.id, "main", index), [])]
            step = steps.get(index)
            if step is not None and step.state in (JobState.FAILED, JobState.TIMED_OUT):
                lines.append(f"Stage {stage['name']} failed: {step.status_message}")
            logs.extend(lines)
            results.append({
                "stageId": stage["id"], "status": STAGE_STATUS[JobState(step.state)] if step else (
                    "cancelled" if run.terminal and run.state != RunState.SUCCEEDED else "pending"),
                "startedAt": iso(step.created_at) if step else None,
                "finishedAt": iso(step.completed_at) if step else None,
                "output": "\n".join(lines) if step else "",
            })
        duration = None
        if run.started_at and run.completed_at:
            duration = int((run.completed_at - run.started_at).total_seconds() * 1000)
        return {
            "id": run.id, "pipelineId": run.pipeline_id, "status": RUN_STATUS[RunState(run.state)],
            "triggeredBy": run.created_by, "startedAt": iso(run.started_at),
            "finishedAt": iso(run.completed_at) if run.terminal else None, "durationMs": duration,
            "logs": "".join(f"{line}\n" for line in logs), "stageResults": results,
            "createdAt": iso(run.created_at), "updatedAt": iso(run.updated_at),
        }

    def _run(self, request: web.Request) -> Run:
        pipeline = self.pipeline(request.match_info["pipeline"])
        run = self.engine.find_run(request.match_info["run"])
        if run is None or (run.org_id, run.app_id, run.pipeline_id) != (pipeline.org_id, pipeline.app_id, pipeline.id):
            raise NotFound(f"run {request.match_info['run']} not found in pipeline {pipeline.id}")
        return run

    # -- pipelines -------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body = await json_body(request, required=False)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return body

    def _check_name(self, name: Any, except_id: str | None = None) -> str:
        if not isinstance(name, str) or not 2 <= len(name.strip()) <= 100:
            raise BadRequest("name must be a string of 2 to 100 characters")
        for p in self.stage_pipelines():
            if p.id != except_id and self.meta(p)["name"] == name:
                raise Conflict(f"a pipeline named {name!r} already exists")
        return name

    async def list_pipelines(self, request: web.Request) -> web.Response:
        try:
            page = int(request.query.get("page", "1"))
            limit = int(request.query.get("limit", "20"))
        except ValueError:
            raise BadRequest("page and limit must be numbers") from None
        if page < 1 or not 1 <= limit <= 100:
            raise BadRequest("page must be ≥ 1 and limit between 1 and 100")
        items = sorted(self.stage_pipelines(), key=lambda p: (self.meta(p).get("createdAt") or "", p.id))
        org = request.query.get("organizationId")
        if org:
            items = [p for p in items if self.meta(p).get("organizationId") == org]
        chunk = items[(page - 1) * limit:page * limit]
        return web.json_response({"data": [self.pipeline_doc(p) for p in chunk], "total": len(items),
                                  "page": page, "limit": limit})

    async def create_pipeline(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        name = self._check_name(body.get("name"))
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise BadRequest("description must be a string")
        stamp = iso(now())
        meta = {"name": name, "description": description, "stages": _stages(body.get("stages")),
                "organizationId": body.get("organizationId"), "createdBy": _user(request),
                "createdAt": stamp, "updatedAt": stamp}
        pid = str(uuid.uuid4())
        pipeline = await self.engine.put_pipeline(STAGE_ORG, STAGE_APP, definition_yaml(pid, meta), create_only=True)
        assert pipeline is not None
        return web.json_response(self.pipeline_doc(pipeline), status=201)

    async def get_pipeline(self, request: web.Request) -> web.Response:
        return web.json_response(self.pipeline_doc(self.pipeline(request.match_info["pipeline"])))

    async def update_pipeline(self, request: web.Request) -> web.Response:
        pipeline = self.pipeline(request.match_info["pipeline"])
        body = await self._body(request)
        meta = dict(self.meta(pipeline))
        if "name" in body:
            meta["name"] = self._check_name(body["name"], except_id=pipeline.id)
        if "description" in body:
            if body["description"] is not None and not isinstance(body["description"], str):
                raise BadRequest("description must be a string")
            meta["description"] = body["description"]
        if "stages" in body:
            meta["stages"] = _stages(body["stages"])
        if "organizationId" in body:
            meta["organizationId"] = body["organizationId"]
        meta["updatedAt"] = iso(now())
        updated = await self.engine.put_pipeline(STAGE_ORG, STAGE_APP, definition_yaml(pipeline.id, meta),
                                                 pipeline_id=pipeline.id)
        assert updated is not None
        return web.json_response(self.pipeline_doc(updated))

    async def delete_pipeline(self, request: web.Request) -> web.Response:
        pipeline = self.pipeline(request.match_info["pipeline"])
        await self.engine.delete_pipeline(STAGE_ORG, STAGE_APP, pipeline.id)
        return web.Response(status=204)

    # -- runs ------------------------------------------------------------------------------

    async def trigger(self, request: web.Request) -> web.Response:
        pipeline = self.pipeline(request.match_info["pipeline"])
        body = await self._body(request)
        run, _ = await self.engine.create_run(STAGE_ORG, STAGE_APP, pipeline.id, {"inputs": body.get("inputs") or {}},
                                              idempotency_key=request.headers.get("Idempotency-Key"),
                                              created_by=_user(request))
        assert run is not None
        return web.json_response(self.run_doc(run), status=201)

    async def list_runs(self, request: web.Request) -> web.Response:
        pipeline = self.pipeline(request.match_info["pipeline"])
        runs = sorted((r for r in self.engine.store.runs.values()
                       if (r.org_id, r.app_id, r.pipeline_id) == (STAGE_ORG, STAGE_APP, pipeline.id)),
                      key=lambda r: r.seq, reverse=True)[:RUN_LIMIT]
        return web.json_response([self.run_doc(r) for r in runs])

    async def get_run(self, request: web.Request) -> web.Response:
        return web.json_response(self.run_doc(self._run(request)))

    async def _until(self, run: Run, done: Callable[[Run], bool]) -> dict[str, Any]:
        """The run's document at the first moment ``done(run)`` holds."""
        return await self.engine.watch_run(run, done, self.run_doc)

    def _status(self, run: Run) -> str:
        return RUN_STATUS[RunState(run.state)]

    async def _decide(self, request: web.Request, approve: bool) -> web.Response:
        _require_admin(request)
        run = self._run(request)
        if self._status(run) != "waiting_approval":
            raise BadRequest(f"run {run.id} is {self._status(run)}, not waiting_approval")
        approval = next((a for a in self.engine.store.approvals.values()
                         if a.run_id == run.id and a.status == "waiting"), None)
        if approval is None:
            raise BadRequest(f"run {run.id} has no pending approval")
        waiter = asyncio.ensure_future(self._until(
            run, (lambda r: r.state != RunState.WAITING) if approve else (lambda r: r.terminal)))
        await asyncio.sleep(0)  # the waiter is subscribed before the decision is made
        await self.engine.decide_approval(approval, approve, _user(request))
        return web.json_response(await waiter)

    async def approve(self, request: web.Request) -> web.Response:
        return await self._decide(request, True)

    async def reject(self, request: web.Request) -> web.Response:
        return await self._decide(request, False)

    async def cancel(self, request: web.Request) -> web.Response:
        _require_admin(request)
        run = self._run(request)
        status = self._status(run)
        if status not in ("queued", "running"):
            if run.terminal:
                raise BadRequest(f"run {run.id} cannot be cancelled: it is already in a terminal state ({status})")
            raise BadRequest(f"run {run.id} cannot be cancelled while {status}")
        waiter = asyncio.ensure_future(self._until(run, lambda r: r.terminal))
        await asyncio.sleep(0)
        await self.engine.cancel_run(run)
        return web.json_response(await waiter)

    # -- live events -----------------------------------------------------------------------

    def _broadcast(self, message: dict[str, Any]) -> None:
        for queue, wanted in list(self.subscribers):
            if wanted(message):
                queue.put_nowait(message)

    def _on_event(self, event: Event) -> None:
        if event.type == events.ENGINE_RESET:
            self.last_status.clear()
            self._meta.clear()
            return
        run_id = event.data.get("run_id")
        run = self.engine.store.runs.get(str(run_id)) if run_id else None
        if run is None or (run.org_id, run.app_id) != (STAGE_ORG, STAGE_APP):
            return
        if event.type == events.STEP_LOG:
            if not self.subscribers:
                return
            pipeline = self.engine.store.pipelines.get((run.org_id, run.app_id, run.pipeline_id))
            stages = self.meta(pipeline, run.pipeline_version).get("stages", []) if pipeline else []
            index = event.data["step_index"]
            stage = stages[index] if index < len(stages) else {"id": str(index), "name": str(index)}
            self._broadcast({"event": "pipeline.log", "data": {
                "runId": run.id, "pipelineId": run.pipeline_id, "stage": stage["id"], "stageName": stage["name"],
                "message": event.data["message"], "level": event.data.get("level"), "at": event.data.get("at")}})
        elif event.type in (events.RUN_CREATED, events.RUN_UPDATED, events.JOB_UPDATED, events.STEP_UPDATED):
            status = self._status(run)
            if self.last_status.get(run.id) != status:
                self.last_status[run.id] = status
                if self.subscribers:
                    self._broadcast({"event": "pipeline.run.updated", "data": self.run_doc(run)})
        elif event.type == events.RUN_DELETED:
            self.last_status.pop(str(run_id), None)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        run_id, pipeline_id = request.query.get("runId"), request.query.get("pipelineId")

        def wanted(message: dict[str, Any]) -> bool:
            data = message["data"]
            rid = data.get("runId") or data.get("id")
            pid = data.get("pipelineId")
            return (run_id is None or rid == run_id) and (pipeline_id is None or pid == pipeline_id)

        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        entry = (queue, wanted)
        self.subscribers.add(entry)

        async def pump() -> None:
            while True:
                await ws.send_json(await queue.get())

        sender: asyncio.Task[None] | None = None
        try:
            await ws.send_json({"event": "subscribed", "data": {"runId": run_id, "pipelineId": pipeline_id}})
            sender = asyncio.create_task(pump())
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and msg.data.strip() == "ping":
                    await ws.send_str("pong")
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            self.subscribers.discard(entry)
            if sender is not None:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
        return ws
