"""Parse and validate Humanitec pipeline YAML into plain definitions the executor walks.

Unknown ``on:`` triggers are kept (not rejected) so later engine parts can add their own,
e.g. ``on: {event: {name: …}}`` (see ``event_names``). A stage pipeline (seed 001, written
with a root ``x-stages`` key) may have a job with no steps: its runs end ``invalid``.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .errors import BadRequest, Unprocessable

KNOWN_TRIGGERS = ("pipeline_call", "deployment_request", "artefact")
DEFAULT_TIMEOUT_MINUTES = 60
ID_PATTERN = re.compile(r"^[a-z0-9](?:-?[a-z0-9]+)*$")
_USES = re.compile(r"^(?:native://)?(?:actions/humanitec/|actions/)?(?P<name>[A-Za-z0-9_\-]+)(?:@\S+)?$")
INPUT_TYPES = {"string", "number", "integer", "boolean", "object", "array"}


@dataclass
class StepDef:
    index: int
    uses: str
    action: str
    name: str
    id: str | None = None
    with_: dict[str, Any] = field(default_factory=dict)
    if_: Any = None
    continue_on_error: bool = False
    timeout_minutes: float | None = None


@dataclass
class JobDef:
    id: str
    name: str
    steps: list[StepDef]
    needs: list[str] = field(default_factory=list)
    if_: Any = None
    timeout_minutes: float | None = None
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class InputDef:
    name: str
    type: str = "string"
    required: bool = False
    description: str = ""
    default: Any = None


@dataclass
class PipelineDef:
    name: str
    on: dict[str, Any]
    jobs: dict[str, JobDef]
    id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    timeout_minutes: float = DEFAULT_TIMEOUT_MINUTES
    concurrency_group: str | None = None
    inputs: dict[str, InputDef] = field(default_factory=dict)

    @property
    def trigger_types(self) -> list[str]:
        return list(self.on)

    @property
    def timeout_seconds(self) -> int:
        return minutes_to_seconds(self.timeout_minutes)

    @property
    def empty(self) -> bool:
        """No step at all: a run of it cannot do anything (seed 002's ``invalid``)."""
        return not any(job.steps for job in self.jobs.values())

    def event_names(self) -> list[str]:
        """Event names under ``on: {event: …}`` (a name, ``{name}``, or a list of either)."""
        spec = self.on.get("event")
        items = spec if isinstance(spec, list) else [spec]
        out = []
        for item in items:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                out.append(item["name"])
        return out

    def job_order(self) -> list[str]:
        """Jobs in a dependency-respecting order (stable with respect to the YAML order)."""
        done: list[str] = []
        pending = list(self.jobs)
        while pending:
            for jid in pending:
                if all(n in done for n in self.jobs[jid].needs):
                    done.append(jid)
                    pending.remove(jid)
                    break
        return done


def minutes_to_seconds(minutes: float) -> int:
    return max(1, math.ceil(minutes * 60))


def load_yaml(text: str) -> Any:
    yaml = YAML(typ="safe", pure=True)
    try:
        return yaml.load(io.StringIO(text))
    except YAMLError as exc:
        raise Unprocessable(f"the body is not valid YAML: {exc}".splitlines()[0]) from exc


def dump_yaml(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def normalise_uses(uses: str) -> str:
    """``actions/humanitec/deploy@v1``, ``native://…`` and ``deploy`` all become ``deploy``."""
    m = _USES.match(uses.strip())
    if not m:
        raise BadRequest(f"unsupported 'uses' value {uses!r}")
    return m.group("name")


def _minutes(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise BadRequest(f"{where}: timeout-minutes must be a positive number")
    return float(value)


def parse_pipeline(text: str) -> PipelineDef:
    """Parse YAML text; 422 if it is not YAML or not a mapping, 400 if it is not a valid pipeline."""
    if not text or not text.strip():
        raise Unprocessable("the pipeline definition is empty")
    data = load_yaml(text)
    if not isinstance(data, dict):
        raise Unprocessable("the pipeline definition must be a YAML mapping")
    return parse_definition(data)


def parse_definition(data: dict[str, Any]) -> PipelineDef:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("the pipeline needs a 'name'")
    pid = data.get("id")
    if pid is not None and (not isinstance(pid, str) or not ID_PATTERN.match(pid) or len(pid) > 50):
        raise BadRequest(f"pipeline id {pid!r} must match {ID_PATTERN.pattern}")
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as the boolean true
    if isinstance(on, str):
        on = {on: {}}
    elif isinstance(on, list):
        on = {str(t): {} for t in on}
    if not isinstance(on, dict) or not on:
        raise BadRequest("the pipeline needs at least one trigger under 'on'")
    on = {str(k): (v or {}) for k, v in on.items()}
    inputs = _parse_inputs(on.get("pipeline_call") or {})
    raw_jobs = data.get("jobs")
    if not isinstance(raw_jobs, dict) or not raw_jobs:
        raise BadRequest("the pipeline needs at least one job under 'jobs'")
    allow_empty = "x-stages" in data
    jobs = {str(jid): _parse_job(str(jid), spec, allow_empty) for jid, spec in raw_jobs.items()}
    for job in jobs.values():
        for need in job.needs:
            if need not in jobs:
                raise BadRequest(f"job {job.id!r} needs unknown job {need!r}")
    _check_acyclic(jobs)
    concurrency = data.get("concurrency")
    group = None
    if isinstance(concurrency, str):
        group = concurrency
    elif isinstance(concurrency, dict) and concurrency.get("group") is not None:
        group = str(concurrency["group"])
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be a map of strings")
    return PipelineDef(
        name=name,
        id=pid,
        on=on,
        jobs=jobs,
        metadata={str(k): str(v) for k, v in metadata.items()},
        timeout_minutes=_minutes(data.get("timeout-minutes"), "pipeline") or DEFAULT_TIMEOUT_MINUTES,
        concurrency_group=group,
        inputs=inputs,
    )


def _parse_inputs(call: Any) -> dict[str, InputDef]:
    if not isinstance(call, dict):
        raise BadRequest("'on.pipeline_call' must be a mapping")
    raw = call.get("inputs") or {}
    if not isinstance(raw, dict):
        raise BadRequest("'on.pipeline_call.inputs' must be a mapping")
    out: dict[str, InputDef] = {}
    for name, spec in raw.items():
        spec = spec or {}
        typ = str(spec.get("type", "string"))
        if typ not in INPUT_TYPES:
            raise BadRequest(f"input {name!r} has unknown type {typ!r}")
        out[str(name)] = InputDef(
            name=str(name),
            type=typ,
            required=bool(spec.get("required", False)),
            description=str(spec.get("description", "")),
            default=spec.get("default"),
        )
    return out


def _parse_job(jid: str, spec: Any, allow_empty: bool = False) -> JobDef:
    if not isinstance(spec, dict):
        raise BadRequest(f"job {jid!r} must be a mapping")
    needs = spec.get("needs") or []
    if isinstance(needs, str):
        needs = [needs]
    raw_steps = spec.get("steps")
    if allow_empty and raw_steps in (None, []):
        raw_steps = []
    elif not isinstance(raw_steps, list) or not raw_steps:
        raise BadRequest(f"job {jid!r} needs at least one step")
    steps: list[StepDef] = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(raw_steps):
        where = f"job {jid!r} step {index}"
        if not isinstance(raw, dict) or not isinstance(raw.get("uses"), str):
            raise BadRequest(f"{where} needs 'uses'")
        with_ = raw.get("with") or {}
        if not isinstance(with_, dict):
            raise BadRequest(f"{where}: 'with' must be a mapping")
        sid = raw.get("id")
        if sid is not None:
            sid = str(sid)
            if sid in seen_ids:
                raise BadRequest(f"{where}: duplicate step id {sid!r}")
            seen_ids.add(sid)
        action = normalise_uses(raw["uses"])
        steps.append(
            StepDef(
                index=index,
                uses=raw["uses"],
                action=action,
                name=str(raw.get("name") or sid or f"{action} #{index}"),
                id=sid,
                with_=dict(with_),
                if_=raw.get("if"),
                continue_on_error=bool(raw.get("continue-on-error", False)),
                timeout_minutes=_minutes(raw.get("timeout-minutes"), where),
            )
        )
    outputs = spec.get("outputs") or {}
    return JobDef(
        id=jid,
        name=str(spec.get("name") or jid),
        steps=steps,
        needs=[str(n) for n in needs],
        if_=spec.get("if"),
        timeout_minutes=_minutes(spec.get("timeout-minutes"), f"job {jid!r}"),
        outputs=dict(outputs) if isinstance(outputs, dict) else {},
    )


def _check_acyclic(jobs: dict[str, JobDef]) -> None:
    state: dict[str, int] = {}

    def visit(jid: str, path: list[str]) -> None:
        if state.get(jid) == 2:
            return
        if state.get(jid) == 1:
            raise BadRequest("job needs form a cycle: " + " -> ".join(path + [jid]))
        state[jid] = 1
        for need in jobs[jid].needs:
            visit(need, path + [jid])
        state[jid] = 2

    for jid in jobs:
        visit(jid, [])


def validate_inputs(defn: PipelineDef, inputs: Any) -> dict[str, Any]:
    """Check ``pipeline_call`` inputs by type and presence; fill defaults. 400 on any problem."""
    if not isinstance(inputs, dict):
        raise BadRequest("'inputs' must be an object")
    problems: list[str] = []
    out: dict[str, Any] = {}
    for name, spec in defn.inputs.items():
        if name not in inputs or inputs[name] is None:
            if spec.default is not None:
                out[name] = spec.default
            elif spec.required:
                problems.append(f"input {name!r} is required")
            continue
        value = inputs[name]
        if not _type_ok(spec.type, value):
            problems.append(f"input {name!r} must be of type {spec.type}, got {type(value).__name__}")
        out[name] = value
    unknown = sorted(set(inputs) - set(defn.inputs))
    if unknown and defn.inputs:
        problems.append("unknown inputs: " + ", ".join(unknown))
    elif unknown:
        out.update({k: inputs[k] for k in unknown})
    if problems:
        raise BadRequest("; ".join(problems), details={"problems": problems})
    return out


def _type_ok(typ: str, value: Any) -> bool:
    if typ == "string":
        return isinstance(value, str)
    if typ == "boolean":
        return isinstance(value, bool)
    if typ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ == "object":
        return isinstance(value, dict)
    if typ == "array":
        return isinstance(value, list)
    return True
