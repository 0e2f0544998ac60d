"""`script` steps: run a Python script in a subprocess with the step's inputs and a timeout.

The child gets a clean environment (no inherited secrets), its inputs as JSON on stdin,
and must print its result as JSON on stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..spec.model import Step
from .errors import InvokeError

TIMEOUT_SECONDS = 60.0
SAFE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONIOENCODING")


def _script_path(step: Step, base_dir: Path) -> Path:
    spec = step.script or {}
    location = str(spec.get("location") or "")
    if location.startswith("file://"):
        location = location[len("file://"):]
        if location.startswith("/./") or location.startswith("/../"):
            location = location[1:]
    folder = Path(location) if location else Path()
    folder = folder if folder.is_absolute() else base_dir / folder
    return folder / str(spec.get("file", ""))


async def run_script(step: Step, inputs: dict[str, Any], base_dir: Path, timeout: float = TIMEOUT_SECONDS) -> Any:
    spec = step.script or {}
    language = str(spec.get("language", "python"))
    if language != "python":
        raise InvokeError(501, "script_language", f"step '{step.name}': {language} scripts are not supported (python only)")
    path = _script_path(step, base_dir)
    if not path.is_file():
        raise InvokeError(500, "script_missing", f"step '{step.name}': script {path} not found")
    env = {k: os.environ[k] for k in SAFE_ENV if k in os.environ}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-I", str(path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=env, cwd=str(path.parent), start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(json.dumps(inputs, default=str).encode()), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise InvokeError(504, "script_timeout", f"step '{step.name}': script ran longer than {timeout:g} s") from None
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        raise InvokeError(500, "script_failed", f"step '{step.name}': {tail[0]}")
    text = out.decode("utf-8", "replace").strip()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text
