"""``approve``: create an approval request and wait until someone approves or denies it."""

from __future__ import annotations

from ..errors import StepFailed
from .base import ActionContext, action


@action("approve")
async def approve(ctx: ActionContext) -> None:
    env_id = ctx.env_id()
    message = str(ctx.get("message", default="Approval required"))
    ctx.relate("env_id", env_id)
    approval = await ctx.host.request_approval(ctx, env_id, message)
    if approval.status != "approved":
        raise StepFailed(f"approval {approval.id} was {approval.status} by {approval.approved_by or 'someone'}")
    ctx.log(f"approved by {approval.approved_by}")
    ctx.outputs["approved_by"] = approval.approved_by
