"""``script``: a real shell command in a fresh temporary folder, output streamed to the log.

The child runs in its own process group, so cancel/timeout can kill everything it spawned.
Lines of ``key=value`` written to ``$NAFTIKO_OUTPUT`` become step outputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from pathlib import Path

from ..errors import StepFailed
from .base import ActionContext, action

KILL_GRACE_SECONDS = 2.0


@action("script")
async def script(ctx: ActionContext) -> None:
    if not ctx.allow_script:
        raise StepFailed(
            "'script' steps run only in pipelines loaded from files at start "
            "(start the engine with --allow-api-scripts to allow them in API-created pipelines)"
        )
    command = str(ctx.require("run", "command", "script"))
    shell = str(ctx.get("shell", default="/bin/sh"))
    extra_env = {str(k): str(v) for k, v in (ctx.get("env") or {}).items()}
    with tempfile.TemporaryDirectory(prefix="naftiko-step-") as workdir:
        output_file = Path(workdir) / ".naftiko-output"
        env = {**os.environ, **extra_env, "NAFTIKO_OUTPUT": str(output_file),
               "NAFTIKO_RUN_ID": ctx.run.id, "NAFTIKO_JOB_ID": ctx.job.job_id}
        proc = await asyncio.create_subprocess_exec(
            shell, "-c", command, cwd=workdir, env=env, start_new_session=True,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            limit=1 << 20,
        )
        ctx.log(f"$ {command}", "DEBUG")
        try:
            assert proc.stdout is not None
            async for raw in proc.stdout:
                ctx.log(raw.decode(errors="replace").rstrip("\r\n"))
            code = await proc.wait()
        except BaseException:
            await _kill(proc)
            raise
        if output_file.exists():
            for line in output_file.read_text(errors="replace").splitlines():
                if "=" in line:
                    key, _, value = line.partition("=")
                    ctx.outputs[key.strip()] = value
    ctx.outputs["exit_code"] = code
    if code != 0:
        raise StepFailed(f"script exited with code {code}")


async def _kill(proc: asyncio.subprocess.Process) -> None:
    """TERM the whole process group, then KILL it if it lingers; always reap the child."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), KILL_GRACE_SECONDS)
    except (TimeoutError, asyncio.CancelledError):
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(asyncio.CancelledError):
        await proc.wait()
