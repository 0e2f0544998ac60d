"""``environment``: create or delete a (simulated) environment, firing the webhook events.

``with: {operation: create|delete, env_id, name?, type?}``. Nothing is provisioned; the
step records the environment and publishes ``environment.created``/``environment.deleted``,
which Humanitec webhooks subscribed to those triggers receive.
"""

from __future__ import annotations

from ..errors import StepFailed
from ..events import ENVIRONMENT_CREATED, ENVIRONMENT_DELETED
from .base import ActionContext, action


@action("environment", "create-environment", "delete-environment")
async def environment(ctx: ActionContext) -> None:
    default_op = "delete" if ctx.step.uses.split("@")[0].endswith("delete-environment") else "create"
    operation = str(ctx.get("operation", "op", default=default_op)).lower()
    if operation not in ("create", "delete"):
        raise StepFailed("'operation' must be 'create' or 'delete'")
    env_id = ctx.env_id()
    env_type = str(ctx.get("type", "env_type", default="development"))
    name = str(ctx.get("name", default=env_id))
    ctx.relate("env_id", env_id)
    ctx.publish(ENVIRONMENT_CREATED if operation == "create" else ENVIRONMENT_DELETED, {
        "org_id": ctx.run.org_id, "app_id": ctx.run.app_id, "env_id": env_id, "name": name, "type": env_type,
        "run_id": ctx.run.id, "triggered_by": ctx.run.created_by,
    })
    ctx.log(f"environment {env_id} ({env_type}) {operation}d")
    ctx.outputs.update({"env_id": env_id, "operation": operation})
