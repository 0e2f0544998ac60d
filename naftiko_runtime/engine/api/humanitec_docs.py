"""The Humanitec API's documents (projections of the internal model) and request helpers.

Internal states map to Humanitec's names here and nowhere else (notes §3 table).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from ..errors import BadRequest
from ..model import (
    Approval,
    Criteria,
    Job,
    JobState,
    Pipeline,
    PipelineVersion,
    Run,
    RunState,
    Step,
    iso,
)

LOG_PAGE_SIZE = 100
YAML_TYPE = "application/x.humanitec-pipelines-v1.0+yaml"

RUN_STATUS = {
    RunState.PENDING: "queued", RunState.QUEUED: "queued", RunState.PROCESSING: "executing",
    RunState.RUNNING: "executing", RunState.WAITING: "executing", RunState.SUCCEEDED: "succeeded",
    RunState.FAILED: "failed", RunState.CANCELLED: "cancelled", RunState.TIMED_OUT: "cancelled",
    RunState.INVALID: "failed",
}
JOB_STATUS = {
    JobState.PENDING: "queued", JobState.QUEUED: "queued", JobState.RUNNING: "executing",
    JobState.WAITING: "waiting", JobState.SUCCEEDED: "succeeded", JobState.FAILED: "failed",
    JobState.CANCELLED: "cancelled", JobState.TIMED_OUT: "cancelled", JobState.SKIPPED: "skipped",
}


def _states_for(statuses: list[str], table: dict[Any, str]) -> list[str]:
    """Humanitec status names (or internal ones) -> the internal states they cover."""
    out: set[str] = set()
    for status in statuses:
        out.update(str(k) for k, v in table.items() if v == status or str(k) == status)
    return sorted(out)


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


# -- projections ---------------------------------------------------------------------------

def run_doc(run: Run) -> dict[str, Any]:
    message = run.status_message
    if run.state == RunState.TIMED_OUT and "timed out" not in message:
        message = f"timed out: {message}"
    return _drop_none({
        "id": run.id, "etag": run.etag, "org_id": run.org_id, "app_id": run.app_id,
        "pipeline_id": run.pipeline_id, "pipeline_version": run.pipeline_version, "env_ids": list(run.env_ids),
        "status": RUN_STATUS[RunState(run.state)], "status_message": message,
        "created_at": iso(run.created_at), "created_by": run.created_by, "timeout_seconds": run.timeout_seconds,
        "trigger": run.trigger, "inputs": run.inputs, "run_as": run.run_as, "waiting_for": dict(run.waiting_for),
        "executing_at": iso(run.started_at), "cancellation_requested_at": iso(run.cancellation_requested_at),
        "completed_at": iso(run.completed_at), "concurrency_group": run.concurrency_group,
    })


def step_doc(step: Step) -> dict[str, Any]:
    return _drop_none({
        "index": step.index, "name": step.name, "uses": step.uses, "status": JOB_STATUS[JobState(step.state)],
        "status_message": step.status_message, "created_at": iso(step.created_at),
        "completed_at": iso(step.completed_at), "timeout_seconds": step.timeout_seconds,
        "related_entities": dict(step.related_entities),
    })


def job_doc(run: Run, job: Job, with_steps: bool = False) -> dict[str, Any]:
    doc = _drop_none({
        "id": job.job_id, "name": job.name, "etag": job.etag, "org_id": run.org_id, "app_id": run.app_id,
        "pipeline_id": run.pipeline_id, "pipeline_version": run.pipeline_version, "run_id": run.id,
        "status": JOB_STATUS[JobState(job.state)], "status_message": job.status_message,
        "created_at": iso(job.created_at), "updated_at": iso(job.updated_at), "timeout_seconds": job.timeout_seconds,
        "waiting_for": job.waiting_for,
        "cancellation_requested_at": iso(job.cancellation_requested_at or (
            run.cancellation_requested_at if job.state not in (JobState.SUCCEEDED, JobState.SKIPPED) else None)),
        "completed_at": iso(job.completed_at),
    })
    if with_steps:
        doc["steps"] = [step_doc(s) for s in job.steps if s.state != JobState.SKIPPED]
    return doc


def pipeline_doc(p: Pipeline, version: str | None = None) -> dict[str, Any]:
    doc = {
        "id": p.id, "etag": p.etag, "org_id": p.org_id, "app_id": p.app_id, "name": p.name, "status": p.status,
        "version": version or p.version, "created_at": iso(p.created_at), "trigger_types": list(p.trigger_types),
    }
    if p.metadata:
        doc["metadata"] = dict(p.metadata)
    return doc


def version_doc(v: PipelineVersion) -> dict[str, Any]:
    return {"id": v.id, "org_id": v.org_id, "app_id": v.app_id, "pipeline_id": v.pipeline_id,
            "created_by": v.created_by, "created_at": iso(v.created_at)}


def approval_doc(a: Approval) -> dict[str, Any]:
    return _drop_none({
        "id": a.id, "org_id": a.org_id, "app_id": a.app_id, "pipeline_id": a.pipeline_id, "run_id": a.run_id,
        "job_id": a.job_id, "env_id": a.env_id, "message": a.message, "created_at": iso(a.created_at),
        "status": a.status, "approved_by": a.approved_by, "approved_at": iso(a.approved_at),
    })


def criteria_doc(c: Criteria, pipeline_name: str) -> dict[str, Any]:
    return _drop_none({
        "id": c.id, "trigger": c.trigger, "pipeline_id": c.pipeline_id, "pipeline_name": pipeline_name,
        "env_type": c.env_type, "app_id": c.match_app_id, "env_id": c.env_id, "deployment_type": c.deployment_type,
    })


PIPELINE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Humanitec pipeline definition (as understood by the naftiko local engine)",
    "type": "object",
    "required": ["name", "on", "jobs"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9](?:-?[a-z0-9]+)*$"},
        "name": {"type": "string"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "timeout-minutes": {"type": "number", "exclusiveMinimum": 0},
        "concurrency": {"type": "object", "properties": {"group": {"type": "string"}}},
        "permissions": {"type": "object"},
        "on": {"type": "object", "minProperties": 1, "properties": {
            "pipeline_call": {"type": ["object", "null"], "properties": {"inputs": {"type": "object"}}},
            "deployment_request": {"type": ["object", "null"]},
            "artefact": {"type": ["object", "null"]},
        }},
        "jobs": {"type": "object", "minProperties": 1, "additionalProperties": {
            "type": "object", "required": ["steps"], "properties": {
                "name": {"type": "string"}, "needs": {"type": ["array", "string"]}, "if": {"type": ["string", "boolean"]},
                "timeout-minutes": {"type": "number"}, "outputs": {"type": "object"},
                "steps": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["uses"], "properties": {
                        "name": {"type": "string"}, "id": {"type": "string"}, "uses": {"type": "string"},
                        "with": {"type": "object"}, "if": {"type": ["string", "boolean"]},
                        "continue-on-error": {"type": "boolean"}, "timeout-minutes": {"type": "number"},
                    }}},
            }}},
    },
}


# -- request helpers -------------------------------------------------------------------------

def _json(data: Any, status: int = 200, etag: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    hdrs = dict(headers or {})
    if etag:
        hdrs["Etag"] = etag
    return web.json_response(data, status=status, headers=hdrs)



def _flag(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"'{name}' must be true or false")


def _time(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise BadRequest(f"'{name}' must be an RFC 3339 date-time") from None
    if value.tzinfo is None:
        raise BadRequest(f"'{name}' needs a time zone")
    return value


def _list(request: web.Request, *names: str) -> list[str] | None:
    values: list[str] = []
    for name in names:
        values.extend(request.query.getall(name, []))
    return values or None


def _deep(request: web.Request, name: str) -> dict[str, str]:
    prefix = f"{name}["
    return {k[len(prefix):-1]: v for k, v in request.query.items() if k.startswith(prefix) and k.endswith("]")}
