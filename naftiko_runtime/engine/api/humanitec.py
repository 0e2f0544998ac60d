"""The Humanitec Pipelines / Pipeline Runs API, as a projection of the internal model.

Served at ``/orgs/{orgId}/…`` (the real paths) and again under ``/v1`` (harmless alias).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..errors import BadRequest
from ..model import Approval, Criteria, JobState, Run, iso
from ..paging import page_by_key, page_by_offset
from ..pipeline_yaml import load_yaml
from ..service import Engine, RunFilter, check_id
from .humanitec_docs import (
    JOB_STATUS,
    LOG_PAGE_SIZE,
    PIPELINE_SCHEMA,
    RUN_STATUS,
    YAML_TYPE,
    _deep,
    _flag,
    _json,
    _json_body,
    _list,
    _states_for,
    _time,
    approval_doc,
    criteria_doc,
    job_doc,
    pipeline_doc,
    run_doc,
    version_doc,
)


class HumanitecAPI:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self, prefix: str = "") -> list[web.RouteDef]:
        o = prefix + "/orgs/{org}"
        a = o + "/apps/{app}"
        p = a + "/pipelines/{pipeline}"
        r = p + "/runs/{run}"
        j = r + "/jobs/{job}"
        return [
            web.get(o + "/pipelines", self.list_org_pipelines),
            web.get(o + "/pipeline-runs", self.list_org_runs),
            web.get(o + "/pipeline-schemas/latest", self.pipeline_schema),
            web.get(a + "/pipelines", self.list_app_pipelines),
            web.post(a + "/pipelines", self.create_pipeline),
            web.post(a + "/pipeline-runs", self.create_run_by_trigger),
            web.get(a + "/pipeline-criteria", self.list_criteria),
            web.get(a + "/approvals", self.list_approvals),
            web.get(p, self.get_pipeline),
            web.patch(p, self.patch_pipeline),
            web.delete(p, self.delete_pipeline),
            web.get(p + "/versions", self.list_versions),
            web.get(p + "/schema", self.get_schema),
            web.post(p + "/criteria", self.create_criteria),
            web.get(p + "/criteria/{criteria}", self.get_criteria),
            web.delete(p + "/criteria/{criteria}", self.delete_criteria),
            web.get(p + "/runs", self.list_runs),
            web.post(p + "/runs", self.create_run),
            web.get(r, self.get_run),
            web.delete(r, self.delete_run),
            web.post(r + "/cancel", self.cancel_run),
            web.post(r + "/restart", self.restart_run),
            web.get(r + "/jobs", self.list_jobs),
            web.get(j, self.get_job),
            web.get(j + "/steps/{step}/logs", self.step_logs),
            web.get(j + "/approvals/{approval}", self.get_approval),
            web.post(j + "/approvals/{approval}/approve", self.approve),
            web.post(j + "/approvals/{approval}/deny", self.deny),
        ]

    def _run(self, request: web.Request) -> Run:
        m = request.match_info
        return self.engine.get_run(m["org"], m["app"], m["pipeline"], m["run"])

    # -- pipelines -------------------------------------------------------------------------

    async def list_org_pipelines(self, request: web.Request) -> web.Response:
        items = self.engine.list_pipelines(request.match_info["org"], _list(request, "app", "app[]"),
                                           request.query.get("trigger"), _deep(request, "metadata"))
        chunk, headers = page_by_offset(request, items)
        return _json([pipeline_doc(p) for p in chunk], headers=headers)

    async def list_app_pipelines(self, request: web.Request) -> web.Response:
        m = request.match_info
        check_id("app id", m["app"])
        items = self.engine.list_pipelines(m["org"], [m["app"]], request.query.get("trigger"),
                                           _deep(request, "metadata"))
        chunk, headers = page_by_offset(request, items)
        return _json([pipeline_doc(p) for p in chunk], headers=headers)

    async def create_pipeline(self, request: web.Request) -> web.Response:
        m = request.match_info
        pipeline = await self.engine.put_pipeline(m["org"], m["app"], await request.text(), create_only=True,
                                                  dry_run=bool(_flag(request, "dry_run")))
        if pipeline is None:
            return web.Response(status=204)
        return _json(pipeline_doc(pipeline), 201, pipeline.etag)

    async def get_pipeline(self, request: web.Request) -> web.Response:
        m = request.match_info
        pipeline = self.engine.get_pipeline(m["org"], m["app"], m["pipeline"])
        version = request.query.get("version")
        if version:
            self.engine.get_version(pipeline, version)
        return _json(pipeline_doc(pipeline, version), etag=pipeline.etag)

    async def patch_pipeline(self, request: web.Request) -> web.Response:
        m = request.match_info
        self.engine.get_pipeline(m["org"], m["app"], m["pipeline"])
        pipeline = await self.engine.put_pipeline(
            m["org"], m["app"], await request.text(), pipeline_id=m["pipeline"],
            dry_run=bool(_flag(request, "dry_run")), if_match=request.headers.get("If-Match"))
        if pipeline is None:
            return web.Response(status=204)
        return _json(pipeline_doc(pipeline), etag=pipeline.etag)

    async def delete_pipeline(self, request: web.Request) -> web.Response:
        m = request.match_info
        await self.engine.delete_pipeline(m["org"], m["app"], m["pipeline"], request.headers.get("If-Match"))
        return web.Response(status=204)

    async def list_versions(self, request: web.Request) -> web.Response:
        m = request.match_info
        pipeline = self.engine.get_pipeline(m["org"], m["app"], m["pipeline"])
        chunk, headers = page_by_offset(request, self.engine.list_versions(pipeline))
        return _json([version_doc(v) for v in chunk], headers=headers)

    async def get_schema(self, request: web.Request) -> web.Response:
        m = request.match_info
        pipeline = self.engine.get_pipeline(m["org"], m["app"], m["pipeline"])
        text = pipeline.definition
        version = request.query.get("version")
        if version:
            text = self.engine.get_version(pipeline, version).definition
        if "yaml" in request.headers.get("Accept", ""):
            return web.Response(text=text, content_type=YAML_TYPE, headers={"Etag": pipeline.etag})
        return _json(load_yaml(text), etag=pipeline.etag)

    async def pipeline_schema(self, request: web.Request) -> web.Response:
        check_id("org id", request.match_info["org"])
        return _json(PIPELINE_SCHEMA)

    # -- criteria --------------------------------------------------------------------------

    def _criteria_doc(self, c: Criteria) -> dict[str, Any]:
        pipeline = self.engine.store.pipelines.get((c.org_id, c.app_id, c.pipeline_id))
        return criteria_doc(c, pipeline.name if pipeline else c.pipeline_id)

    async def list_criteria(self, request: web.Request) -> web.Response:
        m = request.match_info
        items = self.engine.list_criteria(m["org"], m["app"], request.query.get("pipeline"))
        match = _deep(request, "match")
        if match:
            items = [c for c in items if all(self._criteria_doc(c).get(k) in (v, None, "*") for k, v in match.items())]
        chunk, headers = page_by_offset(request, items)
        return _json([self._criteria_doc(c) for c in chunk], headers=headers)

    async def create_criteria(self, request: web.Request) -> web.Response:
        m = request.match_info
        crit = await self.engine.create_criteria(m["org"], m["app"], m["pipeline"], await _json_body(request))
        return _json(self._criteria_doc(crit), 201)

    async def get_criteria(self, request: web.Request) -> web.Response:
        m = request.match_info
        crit = self.engine.get_criteria(m["org"], m["app"], m["pipeline"], m["criteria"])
        return _json(self._criteria_doc(crit))

    async def delete_criteria(self, request: web.Request) -> web.Response:
        m = request.match_info
        await self.engine.delete_criteria(m["org"], m["app"], m["pipeline"], m["criteria"])
        return web.Response(status=204)

    # -- runs ------------------------------------------------------------------------------

    def _created(self, run: Run | None, created: bool) -> web.Response:
        if run is None:
            return web.Response(status=204)
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return _json(run_doc(run), 201, run.etag, headers)

    async def create_run(self, request: web.Request) -> web.Response:
        m = request.match_info
        self.engine.get_pipeline(m["org"], m["app"], m["pipeline"])
        run, created = await self.engine.create_run(
            m["org"], m["app"], m["pipeline"], await _json_body(request),
            idempotency_key=request.headers.get("Idempotency-Key"), dry_run=bool(_flag(request, "dry_run")))
        return self._created(run, created)

    async def create_run_by_trigger(self, request: web.Request) -> web.Response:
        m = request.match_info
        run, created = await self.engine.create_run_by_trigger(
            m["org"], m["app"], await _json_body(request),
            idempotency_key=request.headers.get("Idempotency-Key"), dry_run=bool(_flag(request, "dry_run")))
        return self._created(run, created)

    def _run_filter(self, request: web.Request, org: str) -> RunFilter:
        statuses = _list(request, "status", "status[]")
        return RunFilter(
            org_id=org, statuses=_states_for(statuses, RUN_STATUS) if statuses else None,
            env=request.query.get("env"), completed=_flag(request, "completed"),
            created_after=_time(request, "created_after"), created_before=_time(request, "created_before"),
        )

    async def list_runs(self, request: web.Request) -> web.Response:
        m = request.match_info
        self.engine.get_pipeline(m["org"], m["app"], m["pipeline"])
        f = self._run_filter(request, m["org"])
        f.app_ids, f.pipeline_ids = [m["app"]], [m["pipeline"]]
        chunk, headers = page_by_key(request, self.engine.list_runs(f), key=lambda r: r.seq)
        return _json([run_doc(r) for r in chunk], headers=headers)

    async def list_org_runs(self, request: web.Request) -> web.Response:
        f = self._run_filter(request, request.match_info["org"])
        f.app_ids, f.pipeline_ids = _list(request, "app", "app[]"), _list(request, "pipeline", "pipeline[]")
        chunk, headers = page_by_key(request, self.engine.list_runs(f), key=lambda r: r.seq)
        return _json([run_doc(r) for r in chunk], headers=headers)

    async def get_run(self, request: web.Request) -> web.Response:
        run = self._run(request)
        return _json(run_doc(run), etag=run.etag)

    async def delete_run(self, request: web.Request) -> web.Response:
        await self.engine.delete_run(self._run(request), request.headers.get("If-Match"))
        return web.Response(status=204)

    async def cancel_run(self, request: web.Request) -> web.Response:
        await self.engine.cancel_run(self._run(request), request.headers.get("If-Match"))
        return web.Response(status=204)

    async def restart_run(self, request: web.Request) -> web.Response:
        run, created = await self.engine.restart_run(self._run(request),
                                                     idempotency_key=request.headers.get("Idempotency-Key"))
        return self._created(run, created)

    # -- jobs and logs ---------------------------------------------------------------------

    async def list_jobs(self, request: web.Request) -> web.Response:
        run = self._run(request)
        jobs = self.engine.list_jobs(run)
        statuses = _list(request, "status", "status[]")
        if statuses:
            wanted = _states_for(statuses, JOB_STATUS)
            jobs = [j for j in jobs if j.state in wanted]
        chunk, headers = page_by_offset(request, jobs)
        return _json([job_doc(run, j) for j in chunk], headers=headers)

    async def get_job(self, request: web.Request) -> web.Response:
        run = self._run(request)
        job = self.engine.get_job(run, request.match_info["job"])
        return _json(job_doc(run, job, with_steps=True), etag=job.etag)

    async def step_logs(self, request: web.Request) -> web.Response:
        run = self._run(request)
        job = self.engine.get_job(run, request.match_info["job"])
        try:
            index = int(request.match_info["step"])
        except ValueError:
            raise BadRequest(f"step index {request.match_info['step']!r} is not an integer") from None
        step, lines = self.engine.step_logs(run, job, index)
        still_running = step.state not in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED,
                                           JobState.TIMED_OUT, JobState.SKIPPED)
        chunk, headers = page_by_offset(request, lines, size=LOG_PAGE_SIZE, more=still_running)
        headers["Etag"] = f"{job.etag}-{step.index}-{len(lines)}"
        return _json([{"at": iso(line.at), "level": line.level, "message": line.message} for line in chunk],
                     headers=headers)

    # -- approvals -------------------------------------------------------------------------

    async def list_approvals(self, request: web.Request) -> web.Response:
        m = request.match_info
        items = self.engine.list_approvals(m["org"], m["app"], _list(request, "pipeline", "pipeline[]"),
                                           _list(request, "run", "run[]"), request.query.get("status"))
        chunk, headers = page_by_offset(request, items)
        return _json([approval_doc(a) for a in chunk], headers=headers)

    def _approval(self, request: web.Request) -> Approval:
        run = self._run(request)
        return self.engine.get_approval(run, request.match_info["job"], request.match_info["approval"])

    async def get_approval(self, request: web.Request) -> web.Response:
        return _json(approval_doc(self._approval(request)))

    async def approve(self, request: web.Request) -> web.Response:
        approval = await self.engine.decide_approval(self._approval(request), True, _user(request))
        return _json(approval_doc(approval))

    async def deny(self, request: web.Request) -> web.Response:
        approval = await self.engine.decide_approval(self._approval(request), False, _user(request))
        return _json(approval_doc(approval))


def _user(request: web.Request) -> str:
    return request.headers.get("X-Naftiko-User", "local-user")
