"""The Humanitec Pipelines / Pipeline Runs API, as a projection of the internal model.

Served at ``/orgs/{orgId}/…`` (the real paths) and again under ``/v1`` (harmless alias).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..errors import BadRequest, NotFound
from ..model import Approval, Criteria, JobState, Run, iso
from ..paging import page_by_key, page_by_offset
from ..pipeline_yaml import load_yaml
from ..service import Engine, RunFilter, check_id
from .bodies import body_text, json_body
from .documented import documented
from .humanitec_docs import (
    JOB_STATUS,
    LOG_PAGE_SIZE,
    PIPELINE_SCHEMA,
    RUN_STATUS,
    YAML_TYPE,
    _deep,
    _flag,
    _json,
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
        d = documented  # each route with the status codes its operation documents (humanitec-openapi.json)
        return [
            web.get(o + "/pipelines", d(self.list_org_pipelines, 200, 400, 404)),
            web.get(o + "/pipeline-runs", d(self.list_org_runs, 200, 400, 404)),
            web.get(o + "/pipeline-schemas/latest", d(self.pipeline_schema, 200, 400)),
            web.get(a + "/pipelines", d(self.list_app_pipelines, 200, 400, 404)),
            web.post(a + "/pipelines", d(self.create_pipeline, 201, 204, 400, 404, 409)),
            web.post(a + "/pipeline-runs", d(self.create_run_by_trigger, 201, 204, 400, 404, 409, 422)),
            web.get(a + "/pipeline-criteria", d(self.list_criteria, 200, 400)),
            web.get(a + "/approvals", d(self.list_approvals, 200, 400)),
            web.get(p, d(self.get_pipeline, 200, 400, 404)),
            web.patch(p, d(self.patch_pipeline, 200, 204, 400, 404, 409, 412)),
            web.delete(p, d(self.delete_pipeline, 202, 204, 400, 404, 409, 412)),
            web.get(p + "/versions", d(self.list_versions, 200, 400, 404)),
            web.get(p + "/schema", d(self.get_schema, 200, 400, 404)),
            web.get(p + "/batches/{batch_type}", d(self.get_batch, 200, 404)),
            web.post(p + "/criteria", d(self.create_criteria, 201, 400, 404, 409)),
            web.get(p + "/criteria/{criteria}", d(self.get_criteria, 200, 400, 404)),
            web.delete(p + "/criteria/{criteria}", d(self.delete_criteria, 204, 400, 404)),
            web.get(p + "/runs", d(self.list_runs, 200, 400, 404)),
            web.post(p + "/runs", d(self.create_run, 201, 204, 400, 404, 409, 422)),
            web.get(r, d(self.get_run, 200, 404)),
            web.delete(r, d(self.delete_run, 204, 400, 404, 409, 412)),
            web.post(r + "/cancel", d(self.cancel_run, 204, 400, 404, 409, 412)),
            web.post(r + "/restart", d(self.restart_run, 201, 400, 404, 409, 422)),
            web.get(r + "/jobs", d(self.list_jobs, 200, 404)),
            web.get(j, d(self.get_job, 200, 404)),
            web.get(j + "/steps/{step}/logs", d(self.step_logs, 200, 307, 400, 404)),
            web.get(j + "/approvals/{approval}", d(self.get_approval, 200, 404)),
            web.post(j + "/approvals/{approval}/approve", d(self.approve, 200, 400, 403, 404)),
            web.post(j + "/approvals/{approval}/deny", d(self.deny, 200, 400, 403, 404)),
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
        pipeline = await self.engine.put_pipeline(m["org"], m["app"], await body_text(request), create_only=True,
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
            m["org"], m["app"], await body_text(request), pipeline_id=m["pipeline"],
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

    async def get_batch(self, request: web.Request) -> web.Response:
        """The trigger batch collecting for the pipeline's next run. The engine starts a run per
        trigger and never batches, so a batch of a known pipeline is always empty."""
        m = request.match_info
        self.engine.get_pipeline(m["org"], m["app"], m["pipeline"])
        if m["batch_type"] != "artefact":
            raise NotFound(f"no {m['batch_type']!r} batch: only 'artefact' batches exist")
        return _json({"items": []})

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
        crit = await self.engine.create_criteria(m["org"], m["app"], m["pipeline"], await json_body(request))
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
            m["org"], m["app"], m["pipeline"], await json_body(request),
            idempotency_key=request.headers.get("Idempotency-Key"), dry_run=bool(_flag(request, "dry_run")))
        return self._created(run, created)

    async def create_run_by_trigger(self, request: web.Request) -> web.Response:
        m = request.match_info
        run, created = await self.engine.create_run_by_trigger(
            m["org"], m["app"], await json_body(request),
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
