"""Orchestrated `steps`: calls and lookups run in order over a shared set of results.

Each step's result is stored under its name, so later templates read `{{step.field}}`
and JSONPaths read `$.step.field`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..binding.incoming import Incoming, InputError
from ..capability.model import Action, Call, Step, WithValue
from ..expressions.jsonpaths import JsonPath
from ..expressions.templates import is_missing, lookup_ci
from .client import FORWARDED_HEADERS, is_redirect
from .outcome import StepResult
from .scripts import ScriptPlans

# How a step sends its call: the invoker's `send` (bind, send upstream, parse).
Send = Callable[[Call, Incoming, "dict[str, Any] | None"], Awaitable[StepResult]]


def _project(data: Any, step: Step) -> Any:
    """A call step's result as later steps see it, through the consumed op's named outputs.

    An array answer keeps its elements and adds each named output to every element
    (so a lookup can match on a projected name and still keep the original fields);
    any other answer becomes the object of the named outputs.
    """
    op = step.call.operation if step.call else None
    if op is None or not op.outputs:
        return data
    if isinstance(data, list):
        out = []
        for element in data:
            row = dict(element) if isinstance(element, dict) else {}
            for o in op.outputs:
                value = o.path.first(element) if o.path is not None else None
                if value is not None:
                    row[o.name] = value
            out.append(row)
        return out
    return {o.name: (o.path.first(data) if o.path is not None else None) for o in op.outputs}


def _same(a: Any, b: Any) -> bool:
    """Lookup keys compare as text, so 42 matches "42" (as the reference engine does)."""
    if a == b:
        return True
    if a is None or b is None or isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return _text(a) == _text(b)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lookup(step: Step, results: dict[str, Any], values: dict[str, Any]) -> Any:
    table = results.get(step.index or "")
    if isinstance(table, dict):
        table = next((v for v in table.values() if isinstance(v, list)), [table])
    if not isinstance(table, list):
        return None
    if isinstance(step.lookup_value, JsonPath):
        wanted = step.lookup_value.first(results)
    elif step.lookup_value is not None:
        wanted = step.lookup_value.render_value({**values, **results})
    else:
        wanted = None

    def keep(row: Any) -> Any:
        if not isinstance(row, dict) or not step.fields:
            return row
        return {f: row.get(f) for f in step.fields}

    def find(value: Any) -> Any:
        for row in table:
            if isinstance(row, dict) and _same(row.get(step.match), value):
                return keep(row)
        return None

    if isinstance(wanted, list):
        return [found for found in (find(v) for v in wanted) if found is not None]
    return find(wanted)


async def run_steps(send: Send, action: Action, incoming: Incoming, scripts: ScriptPlans) -> tuple[dict[str, Any], StepResult | None]:
    """Run every step; stop at the first upstream error and return it."""
    results: dict[str, Any] = {}
    values = dict(incoming.values)
    # One caller key must not reach several upstream calls: the second would be refused or replay the first.
    withheld = {h.lower() for h in FORWARDED_HEADERS}
    headers = {k: v for k, v in incoming.headers.items() if k.lower() not in withheld}
    for step in action.steps:
        if step.kind == "call" and step.call is not None:
            step_incoming = Incoming(values=values, origin="step", request_id=incoming.request_id, headers=headers)
            try:
                result = await send(step.call, step_incoming, results)
            except InputError as exc:
                raise InputError(f"step '{step.name}': {exc.message}", exc.parameter) from None
            if result.response.status >= 400 or is_redirect(result.response.status):
                return results, result
            results[step.name] = _project(result.data, step)
        elif step.kind == "lookup":
            results[step.name] = _lookup(step, results, values)
        elif step.kind == "script":
            context = {**values, **results}
            context.update(_with_values(step, context))
            results[step.name] = await scripts.run(step, context)
    return results, None


def _with_values(step: Step, context: dict[str, Any]) -> dict[str, Any]:
    """A script step's `with`: references read the inputs (absent ones are left out), templates render."""
    out: dict[str, Any] = {}
    for key, spec in step.with_.items():
        if spec.kind == "ref":
            found = lookup_ci(context, spec.ref or "")
            if not is_missing(found):
                out[key] = found
        else:
            out[key] = _rendered(spec, context)
    return out


def _rendered(spec: WithValue, context: dict[str, Any]) -> Any:
    """A template or literal entry's value; a structured one (`with-structured`) leaf by leaf, absent references null."""
    if spec.kind == "ref":
        found = lookup_ci(context, spec.ref or "")
        return None if is_missing(found) else found
    if spec.kind == "template" and spec.template is not None:
        return spec.template.render_value(context)
    if spec.kind == "tree":
        if isinstance(spec.tree, dict):
            return {k: _rendered(v, context) for k, v in spec.tree.items()}
        return [_rendered(v, context) for v in spec.tree]
    return spec.literal
