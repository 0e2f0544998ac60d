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
import logging
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..capability.control import ControlAdapter
from ..capability.locations import resolve_location
from ..capability.model import Action, Capability, McpAdapter, RestAdapter, Step
from ..capability.scripting import LANGUAGES
from .errors import InvokeError
from .governance import ScriptGovernance

log = logging.getLogger("naftiko.scripts")

TIMEOUT_SECONDS = 60.0
MAX_OUTPUT = 10 * 1024 * 1024
SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
COMMANDS = {"javascript": ("node", "nodejs"), "groovy": ("groovy",)}
INSTALL_HINT = {"javascript": "install Node.js (node)", "groovy": "install Groovy (groovy)"}

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


def interpreter(language: str) -> str | None:
    """The program that runs `language` on this machine, or None when none is installed."""
    if language == "python":
        return sys.executable
    return next((found for command in COMMANDS.get(language, ()) if (found := shutil.which(command))), None)


@dataclass(frozen=True)
class ScriptPlan:
    """One script step, resolved for this machine when a server starts: interpreter, folder, timeout."""

    step: str
    language: str
    program: str | None
    unavailable: str | None  # why it cannot run here (the step answers 501)
    folder: Path
    names: tuple[str, ...]  # dependencies, then the main file
    timeout: float
    env: tuple[tuple[str, str], ...]  # the only environment the script sees

    def files(self) -> list[Path]:
        """Dependencies then the main file, each checked to be a file inside the script folder."""
        files = []
        for name in self.names:
            path = (self.folder / name).resolve()
            if not name or not path.is_relative_to(self.folder):
                raise InvokeError(500, "script_missing", f"step '{self.step}': script '{name}' is not a file inside {self.folder}")
            if not path.is_file():
                raise InvokeError(500, "script_missing", f"step '{self.step}': script {path} not found")
            files.append(path)
        return files


class ScriptPlans:
    """The plans of every script step of a capability (looked up once per language, not per call)."""

    def __init__(self, capability: Capability) -> None:
        self.base_dir = capability.base_dir
        self.timeout = scripting_timeout(capability)
        self.governance = ScriptGovernance.of(capability)  # what `/scripting` shows and changes
        self.env = (*((k, os.environ[k]) for k in SAFE_ENV if k in os.environ), ("PYTHONIOENCODING", "utf-8"))
        self._programs: dict[str, str | None] = {}
        self._plans: dict[int, ScriptPlan] = {}
        for step in _script_steps(capability):
            plan = self.plan(step)
            if plan.unavailable:
                log.warning("script step '%s' cannot run: %s", step.name, plan.unavailable)

    async def run(self, step: Step, context: dict[str, Any]) -> Any:
        """Run a script step under the governance in force now (enabled, languages, timeout), counting it."""
        plan = self.plan(step)
        refused = self.governance.refusal(plan.language)
        if refused is not None:
            status, error, message = refused
            raise InvokeError(status, error, f"step '{plan.step}': {message}")
        if plan.timeout != self.governance.timeout_s:
            plan = replace(plan, timeout=self.governance.timeout_s)
        started = time.perf_counter()
        failed = True
        try:
            result = await run_script(plan, context)
            failed = False
            return result
        finally:
            self.governance.record(time.perf_counter() - started, failed)

    def plan(self, step: Step) -> ScriptPlan:
        plan = self._plans.get(id(step))
        if plan is None:
            plan = self._plans[id(step)] = self._resolve(step)
        return plan

    def _resolve(self, step: Step) -> ScriptPlan:
        script = step.script
        assert script is not None
        language = script.language
        if language not in self._programs:
            self._programs[language] = interpreter(language) if language in LANGUAGES else None
        program = self._programs[language]
        unavailable = None
        if program is None:
            unavailable = (
                f"{language} script steps need an interpreter and none is on PATH "
                f"({INSTALL_HINT.get(language, 'install it')}, or write the step in Python)"
            )
        folder = resolve_location(script.location, self.base_dir)
        return ScriptPlan(step.name, language, program, unavailable, folder, (*script.dependencies, script.file), self.timeout, self.env)


def scripting_timeout(capability: Capability) -> float:
    """`management.scripting.timeout` of the capability's control adapter (seconds), else the default."""
    for adapter in capability.adapters:
        if isinstance(adapter, ControlAdapter) and adapter.management.scripting.timeout_ms is not None:
            return adapter.management.scripting.timeout_ms / 1000.0
    return TIMEOUT_SECONDS


def _script_steps(capability: Capability) -> Iterator[Step]:
    actions: list[Action] = list(capability.aggregates.values())
    for adapter in capability.adapters:
        if isinstance(adapter, RestAdapter):
            actions += [op.action for res in adapter.resources for op in res.operations]
        elif isinstance(adapter, McpAdapter):
            actions += adapter.tools + [r.action for r in adapter.resources if r.action is not None]
    for action in actions:
        yield from (s for s in action.steps if s.kind == "script" and s.script is not None)


def _command(language: str, program: str) -> list[str]:
    if language == "python":
        return [program, "-I", "-c", PYTHON_BOOTSTRAP]
    if language == "javascript":
        return [program, "-e", NODE_BOOTSTRAP]
    return [program, "-e", GROOVY_BOOTSTRAP]


async def run_script(plan: ScriptPlan, context: dict[str, Any]) -> Any:
    """Run the planned script with `context`; its `result`, decoded from JSON."""
    if plan.unavailable or plan.program is None:
        raise InvokeError(501, "script_language", f"step '{plan.step}': {plan.unavailable}")
    files = plan.files()
    try:
        payload = json.dumps({"context": context, "files": [str(f) for f in files]}, default=str).encode()
    except ValueError as exc:
        raise InvokeError(500, "script_failed", f"step '{plan.step}': inputs are not serialisable: {exc}") from None
    proc = await asyncio.create_subprocess_exec(
        *_command(plan.language, plan.program),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(plan.env), cwd=str(plan.folder), start_new_session=True, limit=MAX_OUTPUT,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(payload), plan.timeout)
    except TimeoutError:
        _kill_group(proc)
        await proc.wait()
        raise InvokeError(504, "script_timeout", f"step '{plan.step}': script ran longer than {plan.timeout:g} s") from None
    except asyncio.CancelledError:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        errors = [line for line in lines if re.match(r"^\s*(\w+\.)*\w*(Error|Exception)\b", line)]
        tail = (errors or lines or [f"exit status {proc.returncode}"])[-1]
        raise InvokeError(500, "script_failed", f"step '{plan.step}': {tail.strip()[:500]}")
    text = out.decode("utf-8", "replace").strip()
    try:
        return json.loads(text) if text else None
    except ValueError:
        raise InvokeError(500, "script_failed", f"step '{plan.step}': result is not JSON: {text[:200]}") from None


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
