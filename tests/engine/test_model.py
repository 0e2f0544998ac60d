"""The internal state machine, expressions and YAML parsing, tested without HTTP."""

from __future__ import annotations

import itertools

import pytest

from naftiko_runtime.engine.errors import BadRequest, IllegalTransition, Unprocessable
from naftiko_runtime.engine.expressions import (
    ExpressionError,
    condition,
    evaluate,
    render,
)
from naftiko_runtime.engine.model import (
    JOB_TRANSITIONS,
    RUN_TRANSITIONS,
    Job,
    JobState,
    Run,
    RunState,
    Step,
)
from naftiko_runtime.engine.pipeline_yaml import (
    normalise_uses,
    parse_pipeline,
    validate_inputs,
)


def _run(state: RunState) -> Run:
    run = Run(id="r", seq=1, org_id="o", app_id="a", pipeline_id="p", pipeline_version="v",
              trigger="pipeline_call", inputs={})
    run.state = state
    return run


@pytest.mark.parametrize("current,target", list(itertools.product(RunState, RunState)))
def test_run_transitions_legal_or_409(current: RunState, target: RunState) -> None:
    run = _run(current)
    before = run.revision
    if target in RUN_TRANSITIONS.get(current, frozenset()):
        run.move(target, "ok")
        assert run.state == target and run.revision == before + 1
        if target in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT,
                      RunState.INVALID):
            assert run.completed_at is not None
    else:
        with pytest.raises(IllegalTransition) as info:
            run.move(target)
        assert info.value.status == 409 and run.state == current and run.revision == before


@pytest.mark.parametrize("current,target", list(itertools.product(JobState, JobState)))
def test_job_and_step_transitions(current: JobState, target: JobState) -> None:
    job = Job(run_id="r", job_id="j", name="j", state=current)
    step = Step(index=0, name="s", uses="log", state=current)
    legal = target in JOB_TRANSITIONS.get(current, frozenset())
    for obj in (job, step):
        if legal:
            obj.move(target)
            assert obj.state == target
        else:
            with pytest.raises(IllegalTransition):
                obj.move(target)
            assert obj.state == current


def test_terminal_states_have_no_way_out() -> None:
    for state in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT, RunState.INVALID):
        assert state not in RUN_TRANSITIONS


def test_etag_changes_with_every_move() -> None:
    run = _run(RunState.PENDING)
    tags = {run.etag}
    for target in (RunState.QUEUED, RunState.PROCESSING, RunState.RUNNING, RunState.WAITING, RunState.RUNNING,
                   RunState.SUCCEEDED):
        run.move(target)
        tags.add(run.etag)
    assert len(tags) == 7


CTX = {
    "inputs": {"env_id": "staging", "count": 3, "flag": False, "items": ["a", "b"]},
    "steps": {"build": {"outputs": {"image": "img:1"}, "status": "succeeded"}},
}


@pytest.mark.parametrize("expr,expected", [
    ("inputs.env_id", "staging"),
    ("inputs.count", 3),
    ("inputs.count >= 3 && !inputs.flag", True),
    ("inputs.missing || 'fallback'", "fallback"),
    ("steps.build.status == 'SUCCEEDED'", True),
    ("steps.build.outputs.image != 'x'", True),
    ("(inputs.flag || inputs.count == 3) && true", True),
    ("contains(inputs.items, 'b')", True),
    ("startsWith(inputs.env_id, 'sta')", True),
    ("format('{0}-{1}', inputs.env_id, inputs.count)", "staging-3"),
    ("inputs['env_id']", "staging"),
    ("tojson(inputs.items)", '[\n  "a",\n  "b"\n]'),
])
def test_expressions(expr: str, expected: object) -> None:
    assert evaluate(expr, CTX) == expected


def test_render_keeps_types_and_interpolates() -> None:
    assert render("${{ inputs.count }}", CTX) == 3
    assert render({"m": "deploy ${{ inputs.env_id }} x${{ inputs.count }}"}, CTX) == {"m": "deploy staging x3"}
    assert condition("${{ inputs.flag }}", CTX) is False
    assert condition("inputs.count == 3", CTX) is True
    with pytest.raises(ExpressionError):
        evaluate("inputs.count ==", CTX)
    with pytest.raises(ExpressionError):
        evaluate("nosuch(1)", CTX)


def test_uses_normalisation() -> None:
    for uses in ("deploy", "actions/humanitec/deploy", "actions/humanitec/deploy@v1",
                 "native://actions/humanitec/deploy@v1"):
        assert normalise_uses(uses) == "deploy"


def test_parse_pipeline_and_unknown_triggers_tolerated() -> None:
    defn = parse_pipeline("""
name: X
on:
  pipeline_call: {inputs: {n: {type: integer, required: true}}}
  event: {name: app/thing.happened}
jobs:
  a: {steps: [{uses: log}]}
  b: {needs: a, steps: [{uses: log}]}
""")
    assert defn.trigger_types == ["pipeline_call", "event"]
    assert defn.job_order() == ["a", "b"]
    assert validate_inputs(defn, {"n": 1}) == {"n": 1}
    with pytest.raises(BadRequest):
        validate_inputs(defn, {"n": "1"})
    with pytest.raises(BadRequest):
        validate_inputs(defn, {})


@pytest.mark.parametrize("text,error", [
    ("", Unprocessable),
    ("a: [unclosed", Unprocessable),
    ("- just a list", Unprocessable),
    ("name: X\njobs: {a: {steps: [{uses: log}]}}", BadRequest),  # no `on`
    ("name: X\non: {pipeline_call: {}}\njobs: {}", BadRequest),
    ("name: X\non: {pipeline_call: {}}\njobs: {a: {needs: [b], steps: [{uses: log}]}}", BadRequest),
    ("name: X\non: {pipeline_call: {}}\njobs: {a: {needs: [b], steps: [{uses: log}]},"
     " b: {needs: [a], steps: [{uses: log}]}}", BadRequest),
    ("name: X\non: {pipeline_call: {}}\njobs: {a: {steps: [{with: {}}]}}", BadRequest),
])
def test_invalid_pipelines(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_pipeline(text)
