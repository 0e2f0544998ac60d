"""``log``, ``fail``, ``notify`` and ``sleep``: actions with no side effects outside the engine."""

from __future__ import annotations

import asyncio

from ..errors import StepFailed
from ..events import NOTIFY
from .base import ActionContext, action


@action("log")
async def log_(ctx: ActionContext) -> None:
    ctx.log(str(ctx.get("message", default="")), str(ctx.get("level", default="INFO")).upper())


@action("fail")
async def fail(ctx: ActionContext) -> None:
    message = str(ctx.get("message", default="failed by the 'fail' action"))
    ctx.log(message, "ERROR")
    raise StepFailed(message)


@action("notify")
async def notify(ctx: ActionContext) -> None:
    """Local stand-in for chat/email notifications: a log line plus a bus event."""
    channel = str(ctx.get("channel", default="default"))
    message = str(ctx.get("message", default=""))
    ctx.log(f"[{channel}] {message}")
    ctx.publish(NOTIFY, {"run_id": ctx.run.id, "job_id": ctx.job.job_id, "channel": channel, "message": message})
    ctx.outputs["channel"] = channel


@action("sleep", "wait")
async def sleep(ctx: ActionContext) -> None:
    """Wait ``seconds`` (engine extension, handy in fixtures and tests)."""
    seconds = float(ctx.get("seconds", default=1))
    ctx.log(f"sleeping {seconds:g}s")
    await asyncio.sleep(seconds)
