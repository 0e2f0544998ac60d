"""The page's routes: server-rendered pages, live fragments they poll, and three actions.

Pages: ``/ui`` (pipelines and recent runs), ``/ui/pipelines/{org}/{app}/{pipeline}``,
``/ui/runs/{run}`` (jobs, steps, logs), ``/ui/approvals``. Each live region polls
``/ui/live/…``, which answers ``{"sig"}`` when nothing changed since the client's ``v`` and
``{"sig", "html"}`` otherwise (the same escaped template the page was rendered with).
Actions (same-origin JSON only): trigger a run, cancel it, approve or deny an approval.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from aiohttp import web

from ..errors import EngineError
from ..model import JobState, Run
from . import guard
from .adapter import EngineView

TEMPLATES = ("base.html", "_state.html", "_decide.html", "index.html", "pipeline.html", "run.html",
             "approvals.html", "error.html", "_runs.html", "_run.html", "_approvals.html")


def _seg(value: Any) -> str:
    """One URL path segment, every reserved character escaped."""
    return quote(str(value), safe="")


def _when(ts: datetime | None) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def _duration(run: Run) -> str:
    if run.started_at is None:
        return ""
    end = run.completed_at or datetime.now(UTC)
    seconds = max(0.0, (end - run.started_at).total_seconds())
    if run.completed_at is None:
        return "running"
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60)} s"


def environment() -> jinja2.Environment:
    """Autoescaping on for every template: names, inputs and log lines are untrusted."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("naftiko_runtime.engine.ui", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(seg=_seg, when=_when, duration=_duration)
    return env


class EnginePage:
    """Handlers of the page; templates are compiled once, here."""

    def __init__(self, view: EngineView) -> None:
        self.view = view
        env = environment()
        self.templates = {name: env.get_template(name) for name in TEMPLATES}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ui", self.index),
            web.get("/ui/", self.index),
            web.get("/ui/pipelines/{org}/{app}/{pipeline}", self.pipeline),
            web.get("/ui/runs/{run}", self.run),
            web.get("/ui/approvals", self.approvals),
            web.get("/ui/live/runs", self.live_runs),
            web.get("/ui/live/runs/{run}", self.live_run),
            web.get("/ui/live/approvals", self.live_approvals),
            web.post("/ui/pipelines/{org}/{app}/{pipeline}/runs", self.trigger),
            web.post("/ui/runs/{run}/cancel", self.cancel),
            web.post("/ui/runs/{run}/approvals/{approval}/{decision:approve|deny}", self.decide),
        ]

    # -- rendering helpers ---------------------------------------------------------------------

    def _context(self, request: web.Request, **values: Any) -> dict[str, Any]:
        token = request.query.get("token")
        # Under --strict-auth the page is opened as /ui?token=…; links and calls carry it on.
        q = "?" + urlencode({"token": token}) if token else ""
        waiting = len(self.view.approvals(status="waiting"))
        return {"q": q, "waiting_count": waiting, "nav": "", **values}

    def _page(self, name: str, context: dict[str, Any], status: int = 200) -> web.Response:
        return web.Response(text=self.templates[name].render(context), status=status,
                            content_type="text/html", headers=guard.SECURITY_HEADERS)

    def _error_page(self, request: web.Request, exc: EngineError) -> web.Response:
        return self._page("error.html", self._context(request, title="Not available", message=exc.message),
                          status=exc.status)

    def _live(self, request: web.Request, name: str, context: dict[str, Any]) -> web.Response:
        html = self.templates[name].render(context)
        sig = hashlib.sha1(html.encode()).hexdigest()
        body: dict[str, Any] = {"sig": sig, "waiting": context["waiting_count"]}
        if request.query.get("v") != sig:
            body["html"] = html
        return web.json_response(body, headers=guard.SECURITY_HEADERS)

    def _run_context(self, request: web.Request, run: Run) -> dict[str, Any]:
        jobs = []
        for job in self.view.jobs(run):
            steps = [(step, [] if step.state == JobState.SKIPPED else self.view.logs(run, job, step))
                     for step in job.steps]
            jobs.append((job, steps))
        return self._context(request, run=run, jobs=jobs, approvals=self.view.approvals(run))

    def _runs_context(self, request: web.Request) -> dict[str, Any]:
        q = request.query
        runs = self.view.runs(q.get("org"), q.get("app"), q.get("pipeline"))
        live = "/ui/live/runs?" + urlencode({k: q[k] for k in ("org", "app", "pipeline", "token") if k in q})
        return self._context(request, runs=runs, show_pipeline=not q.get("pipeline"), live_runs=live)

    # -- pages ---------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        guard.check(request)
        ctx = self._runs_context(request)
        return self._page("index.html", {**ctx, "title": "Pipelines", "nav": "pipelines",
                                         "pipelines": self.view.pipelines()})

    async def pipeline(self, request: web.Request) -> web.Response:
        guard.check(request)
        m = request.match_info
        try:
            info = self.view.pipeline(m["org"], m["app"], m["pipeline"])
        except EngineError as exc:
            return self._error_page(request, exc)
        query = {"org": m["org"], "app": m["app"], "pipeline": m["pipeline"]}
        if request.query.get("token"):
            query["token"] = request.query["token"]
        runs = self.view.runs(m["org"], m["app"], m["pipeline"])
        ctx = self._context(request, title=info.pipeline.name, nav="pipelines", info=info, runs=runs, show_pipeline=False,
                            live_runs="/ui/live/runs?" + urlencode(query))
        return self._page("pipeline.html", ctx)

    async def run(self, request: web.Request) -> web.Response:
        guard.check(request)
        try:
            run = self.view.run(request.match_info["run"])
        except EngineError as exc:
            return self._error_page(request, exc)
        ctx = self._run_context(request, run)
        return self._page("run.html", {**ctx, "title": f"{run.pipeline_id} #{run.number}", "nav": "pipelines"})

    async def approvals(self, request: web.Request) -> web.Response:
        guard.check(request)
        ctx = self._context(request, title="Approvals", nav="approvals", approvals=self.view.approvals())
        return self._page("approvals.html", ctx)

    # -- live fragments ------------------------------------------------------------------------

    async def live_runs(self, request: web.Request) -> web.Response:
        guard.check(request)
        return self._live(request, "_runs.html", self._runs_context(request))

    async def live_run(self, request: web.Request) -> web.Response:
        guard.check(request)
        try:
            run = self.view.run(request.match_info["run"])
        except EngineError as exc:
            return _json_error(exc)
        return self._live(request, "_run.html", self._run_context(request, run))

    async def live_approvals(self, request: web.Request) -> web.Response:
        guard.check(request)
        return self._live(request, "_approvals.html", self._context(request, approvals=self.view.approvals()))

    # -- actions -------------------------------------------------------------------------------

    async def trigger(self, request: web.Request) -> web.Response:
        guard.check(request, write=True)
        m = request.match_info
        body = await _json_body(request)
        try:
            run = await self.view.trigger(m["org"], m["app"], m["pipeline"], body.get("inputs", {}))
        except EngineError as exc:
            return _json_error(exc)
        location = f"/ui/runs/{_seg(run.id)}" + self._context(request)["q"]
        return web.json_response({"run_id": run.id, "location": location}, status=201,
                                 headers=guard.SECURITY_HEADERS)

    async def cancel(self, request: web.Request) -> web.Response:
        guard.check(request, write=True)
        try:
            run = await self.view.cancel(request.match_info["run"])
        except EngineError as exc:
            return _json_error(exc)
        return web.json_response({"run_id": run.id, "state": str(run.state)}, headers=guard.SECURITY_HEADERS)

    async def decide(self, request: web.Request) -> web.Response:
        guard.check(request, write=True)
        m = request.match_info
        try:
            approval = await self.view.decide(m["run"], m["approval"], m["decision"] == "approve")
        except EngineError as exc:
            return _json_error(exc)
        return web.json_response({"id": approval.id, "status": approval.status}, headers=guard.SECURITY_HEADERS)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


def _json_error(exc: EngineError) -> web.Response:
    return web.json_response({"message": exc.message}, status=exc.status, headers=guard.SECURITY_HEADERS)
