"""Seed 001's documents: stages and their mapping to steps, statuses, errors, the JWT claims read."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from ..errors import BadRequest, EngineError
from ..model import JobState, RunState
from ..pipeline_yaml import dump_yaml

PREFIXES = ("/api/v1/pipelines", "/events")
STAGE_ORG, STAGE_APP = "local", "pipelines"
STAGE_TYPES = ("script", "approval", "deploy", "notify")
RUN_LIMIT = 50
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           409: "Conflict", 412: "Precondition Failed", 422: "Unprocessable Entity", 500: "Internal Server Error"}

RUN_STATUS = {
    RunState.PENDING: "queued", RunState.QUEUED: "queued", RunState.PROCESSING: "running",
    RunState.RUNNING: "running", RunState.WAITING: "waiting_approval", RunState.SUCCEEDED: "succeeded",
    RunState.FAILED: "failed", RunState.CANCELLED: "cancelled", RunState.TIMED_OUT: "failed",
    RunState.INVALID: "failed",
}
STAGE_STATUS = {
    JobState.PENDING: "pending", JobState.QUEUED: "pending", JobState.RUNNING: "running",
    JobState.WAITING: "waiting_approval", JobState.SUCCEEDED: "succeeded", JobState.FAILED: "failed",
    JobState.CANCELLED: "cancelled", JobState.TIMED_OUT: "failed", JobState.SKIPPED: "skipped",
}


class Forbidden(EngineError):
    status = 403
    code = "API-403"


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {"statusCode": status, "message": message, "error": REASONS.get(status, "Error")}


def _claims(request: web.Request) -> dict[str, Any]:
    """The JWT's claims, read without verification (a local engine has no keys to check)."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, json.JSONDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _user(request: web.Request) -> str:
    return str(_claims(request).get("sub") or request.headers.get("X-Naftiko-User") or "local-user")


def _require_admin(request: web.Request) -> None:
    """Run actions need role ``admin``: a JWT that names roles must include it; other tokens pass."""
    claims = _claims(request)
    roles = claims.get("roles", claims.get("role"))
    if roles is None:
        return
    roles = roles if isinstance(roles, list) else [roles]
    if "admin" not in [str(r) for r in roles]:
        raise Forbidden("this action requires the admin role")


def _stages(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequest("'stages' must be a list")
    out = []
    for i, stage in enumerate(raw):
        where = f"stages[{i}]"
        if not isinstance(stage, dict):
            raise BadRequest(f"{where} must be an object")
        stype = stage.get("type")
        if stype not in STAGE_TYPES:
            raise BadRequest(f"{where}.type must be one of {', '.join(STAGE_TYPES)}")
        config = stage.get("config") or {}
        if not isinstance(config, dict):
            raise BadRequest(f"{where}.config must be an object")
        if stype == "script" and not (isinstance(config.get("command"), str) and config["command"].strip()):
            raise BadRequest(f"{where}.config.command is required for a script stage")
        for key in ("message", "channel", "componentId", "environmentId", "command"):
            if key in config and config[key] is not None and not isinstance(config[key], str):
                raise BadRequest(f"{where}.config.{key} must be a string")
        order = stage.get("order", i + 1)
        if isinstance(order, bool) or not isinstance(order, (int, float)):
            raise BadRequest(f"{where}.order must be a number")
        name = stage.get("name") or f"Stage {i + 1}"
        if not isinstance(name, str):
            raise BadRequest(f"{where}.name must be a string")
        out.append({"id": str(stage.get("id") or f"stage-{i + 1}"), "name": name, "type": stype,
                    "order": order, "config": dict(config)})
    ids = [s["id"] for s in out]
    if len(set(ids)) != len(ids):
        raise BadRequest("stage ids must be unique")
    return sorted(out, key=lambda s: s["order"])


def _step(stage: dict[str, Any]) -> dict[str, Any]:
    c = stage["config"]
    if stage["type"] == "script":
        with_: dict[str, Any] = {"run": c["command"]}
        uses = "script"
    elif stage["type"] == "approval":
        uses, with_ = "approve", {"message": c.get("message") or f"Approve '{stage['name']}'?"}
        if c.get("environmentId"):
            with_["environment"] = c["environmentId"]
    elif stage["type"] == "deploy":
        uses, with_ = "deploy", {"env_id": c.get("environmentId") or "development"}
        if c.get("componentId"):
            with_["component"] = c["componentId"]
    else:
        uses, with_ = "notify", {"channel": c.get("channel") or "default", "message": c.get("message") or ""}
    return {"name": stage["name"], "uses": uses, "with": with_}


def definition_yaml(pid: str, meta: dict[str, Any]) -> str:
    return dump_yaml({
        "id": pid, "name": meta["name"], "x-stages": meta,
        "on": {"pipeline_call": {}},
        "jobs": {"main": {"name": meta["name"], "steps": [_step(s) for s in meta["stages"]]}},
    })
