"""Inngest REST v1's documents (``inngest-api-v1.yaml``): the envelope, runs, jobs, events, errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from ..ids import is_ulid, run_ulid, stable_uuid, uuid_from_ulid
from ..model import Job, Run, RunState, iso, now
from ..service import Engine

PREFIXES = ("/v1/runs", "/v1/events", "/v1/signals", "/v1/cancellations", "/v1/webhooks", "/e/")
ACCOUNT_ID = stable_uuid("naftiko-local-engine", "account")
ENVIRONMENT_ID = stable_uuid("naftiko-local-engine", "environment")
WEBHOOKS = "inngest_webhooks"  # store docs kind of Inngest webhooks (keyed by id)
CANCELLATIONS = "inngest_cancellations"

#: The documented run statuses: a run that has not ended is ``Running`` (queued ones too).
RUN_STATUS = {
    RunState.PENDING: "Running", RunState.QUEUED: "Running", RunState.PROCESSING: "Running",
    RunState.RUNNING: "Running", RunState.WAITING: "Running", RunState.SUCCEEDED: "Completed",
    RunState.FAILED: "Failed", RunState.CANCELLED: "Cancelled", RunState.TIMED_OUT: "Cancelled",
    RunState.INVALID: "Failed",
}


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": message, "status": status, "data": None}


def envelope(data: Any) -> web.Response:
    return web.json_response({"data": data, "metadata": {"fetchedAt": iso(now()), "cachedUntil": None}})


def find_run(engine: Engine, raw: str) -> Run | None:
    """The run a ULID names, or None (also for anything that is not a ULID)."""
    return engine.find_run(uuid_from_ulid(raw)) if is_ulid(raw) else None


def run_doc(engine: Engine, run: Run) -> dict[str, Any]:
    versions = engine.store.versions.get((run.org_id, run.app_id, run.pipeline_id), [])
    version = next((i + 1 for i, v in enumerate(versions) if v.id == run.pipeline_version), len(versions))
    output: Any = None
    if run.state == RunState.SUCCEEDED:
        output = {j.job_id: j.outputs for j in engine.list_jobs(run)}
    elif run.terminal:
        output = {"error": run.status_message}
    return {
        "run_id": run_ulid(run.id), "run_started_at": iso(run.started_at or run.created_at),
        "ended_at": iso(run.completed_at) if run.terminal else None,
        "function_id": stable_uuid(run.org_id, run.app_id, run.pipeline_id), "function_version": version,
        "environment_id": stable_uuid(run.org_id), "event_id": run.event_id, "batch_id": None,
        "original_run_id": run_ulid(run.restarted_from) if run.restarted_from else None, "cron": None,
        "status": RUN_STATUS[RunState(run.state)], "output": output,
        # engine extension: where the same run lives in the other APIs
        "naftiko": {"id": run.id, "org_id": run.org_id, "app_id": run.app_id, "pipeline_id": run.pipeline_id},
    }


def job_docs(jobs: list[Job]) -> list[dict[str, Any]]:
    """The run's steps in queue order, as the documented ``Job`` (``at``, ``position``, ``attempt``)."""
    out: list[dict[str, Any]] = []
    for job in jobs:
        for step in job.steps:
            out.append({"at": iso(step.created_at), "position": len(out), "attempt": 0})
    return out


def event_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored event as the documented ``Event``."""
    key = doc.get("source_key")
    return {
        "internal_id": doc["internal_id"], "accountID": ACCOUNT_ID, "environmentID": ENVIRONMENT_ID,
        "source": doc.get("source", "key"), "sourceID": stable_uuid("event-key", key or ""),
        "receivedAt": doc["receivedAt"], "id": doc["id"], "name": doc["name"], "data": doc["data"],
        "user": doc.get("user") if isinstance(doc.get("user"), dict) and doc.get("user") else None,
        "ts": doc["ts"], "v": None if doc.get("v") is None else str(doc["v"]),
    }


def when(raw: str | None) -> datetime | None:
    """An RFC 3339 filter value; one that does not parse filters nothing (no 400 is documented)."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None




def webhook_event(payload: Any) -> dict[str, Any]:
    """What Inngest's default transform makes of a webhook request: ``{name, data}`` passes as it
    is, anything else is ``webhook/request.received`` with the payload as data. (A webhook's own
    JavaScript ``transform`` is kept but not run: the engine has no JavaScript.)"""
    if isinstance(payload, dict) and isinstance(payload.get("name"), str) and payload["name"].strip():
        return payload
    return {"name": "webhook/request.received", "data": payload if isinstance(payload, dict) else {"body": payload}}
