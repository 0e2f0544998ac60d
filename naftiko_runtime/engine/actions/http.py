"""``http``: a real outgoing HTTP request; fails the step on a 4xx/5xx unless told otherwise."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from ..errors import StepFailed
from .base import ActionContext, action


@action("http")
async def http(ctx: ActionContext) -> None:
    method = str(ctx.get("method", default="GET")).upper()
    url = str(ctx.require("url"))
    headers = {str(k): str(v) for k, v in (ctx.get("headers") or {}).items()}
    body = ctx.get("body")
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, (dict, list)):
        kwargs["json"] = body
    elif body is not None:
        kwargs["data"] = str(body)
    timeout = aiohttp.ClientTimeout(total=float(ctx.get("timeout-seconds", default=30)))
    ctx.log(f"{method} {url}")
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.request(method, url, **kwargs) as resp:
                text = await resp.text()
                status = resp.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StepFailed(f"{method} {url} failed: {exc or type(exc).__name__}") from exc
    ctx.log(f"{method} {url} -> {status}")
    ctx.outputs["status"] = status
    try:
        ctx.outputs["body"] = json.loads(text)
    except ValueError:
        ctx.outputs["body"] = text
    if status >= 400 and ctx.get("fail-on-error", default=True) not in (False, "false"):
        raise StepFailed(f"{method} {url} answered {status}")
