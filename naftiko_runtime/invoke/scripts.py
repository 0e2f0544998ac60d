"""`script` steps: run a script in a subprocess with the step's inputs, a timeout and no secrets.

The contract is the reference engine's: the script sees a `context` variable (the call's
inputs, earlier step results and the step's `with` values) and assigns its answer to
`result`; the step's `dependencies` run first, in the same scope. Files are read from the
step's `location` folder (`file:///./scripts` is relative to the capability file; default:
the capability's folder) and may not escape it.

Isolation: a fresh interpreter per run (`python -I`, `node`, `groovy`) with an environment
of PATH/locale only (bind values and the runtime's environment are never passed), its own
process group (killed whole on timeout) and the script folder as working directory. What
the script prints goes to stderr; only `result` comes back, as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from pathlib import Path
from typing import Any

from ..capability.locations import resolve_location
from ..capability.model import Step
from ..capability.scripting import interpreter, script_language, unavailable_reason
from .errors import InvokeError

TIMEOUT_SECONDS = 60.0
MAX_OUTPUT = 10 * 1024 * 1024
SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")

PYTHON_BOOTSTRAP = """\
import json, sys
_out = sys.stdout
sys.stdout = sys.stderr
_payload = json.loads(sys.stdin.read())
_scope = {"__name__": "__naftiko_script__", "context": _payload["context"]}
for _path in _payload["files"]:
    with open(_path, encoding="utf-8") as _f:
        exec(compile(_f.read(), _path, "exec"), _scope)
_out.write(json.dumps(_scope.get("result"), default=str))
_out.flush()
"""

NODE_BOOTSTRAP = """\
(() => {
  const fs = require('fs'), vm = require('vm');
  const payload = JSON.parse(fs.readFileSync(0, 'utf8'));
  const write = process.stdout.write.bind(process.stdout);
  for (const k of ['log', 'info', 'debug', 'warn']) console[k] = console.error;
  globalThis.context = payload.context;
  for (const f of payload.files) vm.runInThisContext(fs.readFileSync(f, 'utf8'), { filename: f });
  const answer = vm.runInThisContext("typeof result === 'undefined' ? null : result");
  const text = JSON.stringify(answer);
  write(text === undefined ? 'null' : text);
})();
"""

GROOVY_BOOTSTRAP = """\
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
def payload = new JsonSlurper().parse(System.in)
def binding = new Binding([context: payload.context])
def shell = new GroovyShell(binding)
def out = System.out
System.setOut(System.err)
payload.files.each { shell.evaluate(new File(it)) }
out.print(JsonOutput.toJson(binding.hasVariable('result') ? binding.getVariable('result') : null))
out.flush()
"""


def script_folder(step: Step, base_dir: Path) -> Path:
    return resolve_location(str((step.script or {}).get("location") or "."), base_dir)


def script_files(step: Step, base_dir: Path) -> list[Path]:
    """Dependencies then the main file, each checked to be a file inside the script folder."""
    spec = step.script or {}
    folder = script_folder(step, base_dir)
    names = [str(d) for d in spec.get("dependencies") or []] + [str(spec.get("file") or "")]
    files = []
    for name in names:
        path = (folder / name).resolve()
        if not name or not path.is_relative_to(folder):
            raise InvokeError(500, "script_missing", f"step '{step.name}': script '{name}' is not a file inside {folder}")
        if not path.is_file():
            raise InvokeError(500, "script_missing", f"step '{step.name}': script {path} not found")
        files.append(path)
    return files


def _command(language: str, program: str) -> list[str]:
    if language == "python":
        return [program, "-I", "-c", PYTHON_BOOTSTRAP]
    if language == "javascript":
        return [program, "-e", NODE_BOOTSTRAP]
    return [program, "-e", GROOVY_BOOTSTRAP]


async def run_script(step: Step, context: dict[str, Any], base_dir: Path, timeout: float = TIMEOUT_SECONDS) -> Any:
    """Run the step's script with `context`; its `result`, decoded from JSON."""
    spec = step.script or {}
    language = script_language(spec)
    reason = unavailable_reason(language)
    program = interpreter(language)
    if reason or program is None:
        raise InvokeError(501, "script_language", f"step '{step.name}': {reason}")
    files = script_files(step, base_dir)
    try:
        payload = json.dumps({"context": context, "files": [str(f) for f in files]}, default=str).encode()
    except ValueError as exc:
        raise InvokeError(500, "script_failed", f"step '{step.name}': inputs are not serialisable: {exc}") from None
    env = {k: os.environ[k] for k in SAFE_ENV if k in os.environ}
    env["PYTHONIOENCODING"] = "utf-8"
    proc = await asyncio.create_subprocess_exec(
        *_command(language, program),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=env, cwd=str(script_folder(step, base_dir)), start_new_session=True, limit=MAX_OUTPUT,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(payload), timeout)
    except asyncio.TimeoutError:
        _kill_group(proc)
        await proc.wait()
        raise InvokeError(504, "script_timeout", f"step '{step.name}': script ran longer than {timeout:g} s") from None
    except asyncio.CancelledError:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        errors = [line for line in lines if re.match(r"^\s*(\w+\.)*\w*(Error|Exception)\b", line)]
        tail = (errors or lines or [f"exit status {proc.returncode}"])[-1]
        raise InvokeError(500, "script_failed", f"step '{step.name}': {tail.strip()[:500]}")
    text = out.decode("utf-8", "replace").strip()
    try:
        return json.loads(text) if text else None
    except ValueError:
        raise InvokeError(500, "script_failed", f"step '{step.name}': result is not JSON: {text[:200]}") from None


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
