"""Everything the engine page reads or does, as one small surface over the engine's service.

The page never touches the store, the executor or the bus. These are the only ``Engine`` calls
it makes: ``state``, ``list_pipelines``, ``get_pipeline``, ``definition``, ``list_runs``,
``find_run``, ``list_jobs``, ``step_logs``, ``list_approvals``, ``create_run``, ``cancel_run``
and ``decide_approval``. If the service moves, this file is the one to follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import NotFound
from ..model import Approval, Job, LogLine, Pipeline, Run, Step
from ..pipeline_yaml import InputDef
from ..service import Engine, RunFilter

UI_USER = "engine-page"


@dataclass(frozen=True)
class PipelineInfo:
    """A pipeline as the page shows it: the stored record, its inputs and whether it can be run."""

    pipeline: Pipeline
    inputs: list[InputDef]
    jobs: list[str]
    callable: bool


class EngineView:
    """Read and act on the engine for the page; every call goes through the service."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- reading -------------------------------------------------------------------------------

    def scopes(self) -> list[tuple[str, str]]:
        """Every (org, app) that holds a pipeline, sorted."""
        return sorted({(p["org_id"], p["app_id"]) for p in self._engine.state()["pipelines"]})

    def pipelines(self) -> list[PipelineInfo]:
        out = []
        for org in sorted({org for org, _ in self.scopes()}):
            out += [self._info(p) for p in self._engine.list_pipelines(org)]
        return out

    def pipeline(self, org_id: str, app_id: str, pipeline_id: str) -> PipelineInfo:
        return self._info(self._engine.get_pipeline(org_id, app_id, pipeline_id))

    def _info(self, pipeline: Pipeline) -> PipelineInfo:
        defn = self._engine.definition(pipeline)
        return PipelineInfo(pipeline, list(defn.inputs.values()), [j.name or j.id for j in defn.jobs.values()],
                            "pipeline_call" in defn.on)

    def runs(self, org_id: str | None = None, app_id: str | None = None, pipeline_id: str | None = None,
             limit: int = 50) -> list[Run]:
        """Runs newest first, across every org unless narrowed."""
        orgs = [org_id] if org_id else sorted({org for org, _ in self.scopes()})
        out: list[Run] = []
        for org in orgs:
            out += self._engine.list_runs(RunFilter(org_id=org, app_ids=[app_id] if app_id else None,
                                                    pipeline_ids=[pipeline_id] if pipeline_id else None))
        return sorted(out, key=lambda r: r.seq, reverse=True)[:limit]

    def run(self, run_id: str) -> Run:
        run = self._engine.find_run(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} not found")
        return run

    def jobs(self, run: Run) -> list[Job]:
        return self._engine.list_jobs(run)

    def logs(self, run: Run, job: Job, step: Step) -> list[LogLine]:
        return list(self._engine.step_logs(run, job, step.index)[1])

    def approvals(self, run: Run | None = None, status: str | None = None) -> list[Approval]:
        """Approvals newest first: a run's own, or every app's (``status`` narrows them)."""
        if run is not None:
            return self._engine.list_approvals(run.org_id, run.app_id, runs=[run.id], status=status)
        out: list[Approval] = []
        for org, app in self.scopes():
            out += self._engine.list_approvals(org, app, status=status)
        return sorted(out, key=lambda a: a.created_at, reverse=True)

    # -- acting --------------------------------------------------------------------------------

    async def trigger(self, org_id: str, app_id: str, pipeline_id: str, inputs: dict[str, Any]) -> Run:
        run, _ = await self._engine.create_run(org_id, app_id, pipeline_id, {"inputs": inputs}, created_by=UI_USER)
        assert run is not None  # not a dry run
        return run

    async def cancel(self, run_id: str) -> Run:
        run = self.run(run_id)
        await self._engine.cancel_run(run)
        return run

    async def decide(self, run_id: str, approval_id: str, approve: bool) -> Approval:
        run = self.run(run_id)
        approval = next((a for a in self.approvals(run) if a.id == approval_id), None)
        if approval is None:
            raise NotFound(f"approval {approval_id!r} not found in run {run_id!r}")
        return await self._engine.decide_approval(approval, approve, UI_USER)
