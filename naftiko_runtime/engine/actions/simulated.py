"""Humanitec-domain actions, simulated: they mint ids, record related entities and log.

``with: {fail: true}`` (or a ``fail-message``) makes any of them fail on demand, and
``duration-seconds`` makes them take a while, so pipelines can rehearse bad days.
"""

from __future__ import annotations

import asyncio
import uuid

from ..errors import StepFailed
from ..events import DEPLOYMENT_FINISHED, DEPLOYMENT_STARTED
from .base import ActionContext, action


def _short_id() -> str:
    return uuid.uuid4().hex[:16]


async def _maybe_delay_or_fail(ctx: ActionContext, what: str) -> None:
    delay = float(ctx.get("duration-seconds", "duration_seconds", default=0) or 0)
    if delay:
        await asyncio.sleep(delay)
    if ctx.get("fail") in (True, "true") or ctx.get("fail-message"):
        message = str(ctx.get("fail-message", default=f"{what} failed (simulated)"))
        ctx.log(message, "ERROR")
        raise StepFailed(message)


@action("apply")
async def apply(ctx: ActionContext) -> None:
    env_id = ctx.env_id()
    delta_id = str(ctx.get("delta_id", default=_short_id()))
    set_id = _short_id()
    ctx.relate("env_id", env_id)
    ctx.relate("delta_id", delta_id)
    ctx.log(f"applying delta {delta_id} to environment {env_id}")
    await _maybe_delay_or_fail(ctx, "apply")
    ctx.relate("set_id", set_id)
    ctx.outputs["set_id"] = set_id
    ctx.log(f"environment {env_id} now at set {set_id}")


@action("create-delta")
async def create_delta(ctx: ActionContext) -> None:
    delta_id = _short_id()
    ctx.relate("delta_id", delta_id)
    ctx.log(f"created delta {delta_id}")
    await _maybe_delay_or_fail(ctx, "create-delta")
    ctx.outputs["delta_id"] = delta_id


@action("clone")
async def clone(ctx: ActionContext) -> None:
    source = str(ctx.get("from_env_id", "source_env_id", default="development"))
    target = ctx.env_id()
    ctx.relate("env_id", target)
    ctx.log(f"cloning environment {source} into {target}")
    await _maybe_delay_or_fail(ctx, "clone")
    ctx.outputs["set_id"] = _short_id()


@action("deploy")
async def deploy(ctx: ActionContext) -> None:
    env_id = ctx.env_id()
    set_id = str(ctx.get("set_id", default=ctx.run.inputs.get("set_id") or _short_id()))
    deployment_id = _short_id()
    comment = str(ctx.get("message", "comment", default=ctx.run.inputs.get("comment") or ""))
    for key, value in (("env_id", env_id), ("deployment_id", deployment_id), ("set_id", set_id)):
        ctx.relate(key, value)
    event = {
        "org_id": ctx.run.org_id, "app_id": ctx.run.app_id, "env_id": env_id, "deploy_id": deployment_id,
        "set_id": set_id, "delta_id": str(ctx.get("delta_id", default=ctx.run.inputs.get("delta_id") or "")),
        "comment": comment, "run_id": ctx.run.id, "component": ctx.get("component", "componentId"),
    }
    ctx.publish(DEPLOYMENT_STARTED, {**event, "status": "in progress"})
    ctx.log(f"deployment {deployment_id} of set {set_id} to {env_id} started")
    try:
        await _maybe_delay_or_fail(ctx, "deploy")
    except StepFailed:
        ctx.publish(DEPLOYMENT_FINISHED, {**event, "status": "failed"})
        raise
    ctx.publish(DEPLOYMENT_FINISHED, {**event, "status": "succeeded"})
    ctx.log(f"deployment {deployment_id} succeeded")
    ctx.outputs.update({"deployment_id": deployment_id, "set_id": set_id, "env_id": env_id})


@action("wait-for-readiness")
async def wait_for_readiness(ctx: ActionContext) -> None:
    env_id = ctx.env_id()
    ctx.relate("env_id", env_id)
    ctx.log(f"waiting for workloads in {env_id} to become ready")
    await _maybe_delay_or_fail(ctx, "wait-for-readiness")
    ctx.log(f"all workloads in {env_id} are ready")
