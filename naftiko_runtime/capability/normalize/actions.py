"""Normalise what an exposed operation, tool or aggregate function does: its call or steps, `with`
values, inputs, mappings, outputs and hints. Unresolvable calls disable only their own part."""

from __future__ import annotations

import re
from typing import Any

from ...expressions.jsonpaths import JsonPath
from ...expressions.paths import PathTemplate
from ...expressions.templates import has_tags
from .. import model as m
from ..diagnostics import PartKind
from ..hint_aliases import canonical_hints
from ..resolution import CallSite, Resolved, resolve_namespace, resolve_operation
from ..yaml_source import JsonPath as YPath
from .context import Context
from .scripts import script_step
from .values import (
    REFERENCE_NAME,
    as_dict,
    as_list,
    as_str,
    jsonpath,
    params_list,
    template,
)


def action(
    ctx: Context,
    raw: dict[str, Any],
    adapter: str,
    path: YPath,
    *,
    kind: PartKind,
    part_name: str | None = None,
    rest: bool,
    site_path: PathTemplate | None = None,
    method: str | None = None,
) -> m.Action:
    with ctx.part(kind, part_name or str(raw.get("name", ""))) as part:
        return _action(ctx, raw, adapter, path, part=part, rest=rest, site_path=site_path, method=method)


def _action(ctx: Context, raw: dict[str, Any], adapter: str, path: YPath, *, part: Any, rest: bool,
            site_path: PathTemplate | None, method: str | None) -> m.Action:
    base: m.Action | None = None
    if raw.get("ref") is not None:
        ref = str(raw["ref"])
        base = ctx.aggregates.get(ref)
        if base is None:
            known = ", ".join(sorted(ctx.aggregates)) or "none"
            ctx.error(f"ref '{ref}' names no aggregate function (known: {known})", path + ("ref",))
    inputs = (
        exposed_inputs(ctx, raw.get("inputParameters"), path + ("inputParameters",), rest=rest)
        if raw.get("inputParameters") is not None
        else (list(base.inputs) if base and base.inputs is not None else None)
    )
    prefixes = ("rest.", "tools.", "mcp.", f"{adapter}.")
    with_raw = raw.get("with")
    site = CallSite(
        adapter=adapter,
        method=method if rest else None,
        path=site_path,
        provided={*(as_dict(with_raw).keys()), *((i.name for i in inputs) if inputs else ())},
        description=as_str(raw.get("description")),
        label=as_str(raw.get("label")) or as_str(raw.get("name")),
    )
    call_ = call(ctx, raw.get("call"), with_raw, prefixes, site, path) if raw.get("call") else None
    steps_ = steps(ctx, raw.get("steps"), prefixes, adapter, path + ("steps",)) if raw.get("steps") else []
    result = m.Action(
        name=str(raw.get("name") or (base.name if base else "")),
        adapter=adapter,
        label=as_str(raw.get("label")) or (base.label if base else None),
        description=as_str(raw.get("description")) or (base.description if base else None),
        inputs=inputs,
        call=call_ or (base.call if base and not steps_ else None),
        steps=steps_ or (base.steps if base and not call_ else []),
        mappings=mappings(ctx, raw.get("mappings"), path + ("mappings",)) or (base.mappings if base else []),
        outputs=outputs(ctx, raw.get("outputParameters"), path + ("outputParameters",)) or (base.outputs if base else []),
        hints=hints(raw.get("hints"), base.hints if base else None),
        where=ctx.where(path),
        broken=ctx.why_disabled(part) or ctx.broken_at(path) or (base.broken if base else None),
    )
    if base and call_ is None and base.call is not None and raw.get("with") is not None:
        result.call = m.Call(base.call.target, base.call.operation, with_values(ctx, with_raw, prefixes, path + ("with",)), base.call.where)
    return result


def call(ctx: Context, target: Any, with_raw: Any, prefixes: tuple[str, ...], site: CallSite, path: YPath) -> m.Call | None:
    target = str(target)
    namespace, _, rest_name = target.partition(".")
    api = ctx.apis.get(namespace)
    resolved: Resolved | None = None
    if api is None:
        guess = resolve_namespace(ctx.apis, namespace, rest_name)
        if guess.api is None:
            known = ", ".join(sorted(ctx.apis)) or "none"
            why = f"; {guess.message}" if guess.message else ""
            _unresolved(ctx, f"call '{target}' names no consumes namespace '{namespace}' (known: {known}){why}", path + ("call",))
            return None
        ctx.warn(guess.message, path + ("call",), "guessed-namespace")
        api = guess.api
        resolved = Resolved(guess.operation) if guess.operation is not None else None
    resolved = resolved or resolve_operation(api, rest_name, site)
    if resolved.operation is None:
        _unresolved(ctx, resolved.message, path + ("call",))
        return None
    if resolved.message:
        ctx.warn(resolved.message, path + ("call",), resolved.code)
    if resolved.operation.broken:
        reason = f"calls '{target}', which is disabled: {resolved.operation.broken}"
        ctx.disable(reason, f"{reason}; this operation answers 503 until it is fixed", path + ("call",), "disabled-call")
    return m.Call(target, resolved.operation, with_values(ctx, with_raw, prefixes, path + ("with",)), ctx.where(path + ("call",)))


def _unresolved(ctx: Context, reason: str, path: YPath) -> None:
    """A call that names nothing disables its operation only; the rest of the file still serves."""
    ctx.disable(reason, f"{reason}; this operation answers 503 until the call is fixed", path, "unresolved-call")


def with_values(ctx: Context, raw: Any, prefixes: tuple[str, ...], path: YPath) -> dict[str, m.WithValue]:
    return {str(key): with_value(ctx, value, prefixes, path + (key,)) for key, value in as_dict(raw).items()}


def with_value(ctx: Context, value: Any, prefixes: tuple[str, ...], path: YPath) -> m.WithValue:
    if isinstance(value, dict):  # a structured value (the schema check reported it: `with-structured`)
        return m.WithValue("tree", tree={str(k): with_value(ctx, v, prefixes, path + (k,)) for k, v in value.items()})
    if isinstance(value, list):
        return m.WithValue("tree", tree=[with_value(ctx, v, prefixes, path + (i,)) for i, v in enumerate(value)])
    if isinstance(value, str):
        for prefix in prefixes:
            name = value[len(prefix):]
            if value.startswith(prefix) and REFERENCE_NAME.match(name):
                return m.WithValue("ref", ref=name, prefix=prefix)
        if has_tags(value):
            return m.WithValue("template", template=template(ctx, value, path))
    return m.WithValue("literal", literal=value)


def steps(ctx: Context, raw: Any, prefixes: tuple[str, ...], adapter: str, path: YPath) -> list[m.Step]:
    out: list[m.Step] = []
    for i, s in enumerate(as_list(raw)):
        if not isinstance(s, dict):
            continue
        name = str(s.get("name", f"step-{i}"))
        with ctx.part("step", name):
            step = _step(ctx, s, name, out, prefixes, adapter, path + (i,))
        if step is not None:
            out.append(step)
    return out


def _step(ctx: Context, s: dict[str, Any], name: str, earlier: list[m.Step], prefixes: tuple[str, ...],
          adapter: str, spath: YPath) -> m.Step | None:
    kind = str(s.get("type") or ("lookup" if "index" in s else "script" if "file" in s else "call"))
    if kind == "call":
        site = CallSite(adapter, None, None, set(as_dict(s.get("with")).keys()), None, name)
        call_ = call(ctx, s.get("call"), s.get("with"), prefixes, site, spath) if s.get("call") else None
        if s.get("call") is None:
            ctx.error("a call step needs 'call'", spath)
        return m.Step("call", name, call=call_)
    if kind == "lookup":
        index = str(s.get("index", ""))
        if index not in {st.name for st in earlier}:
            ctx.error(f"lookup index '{index}' names no earlier step", spath + ("index",))
        lv = s.get("lookupValue")
        lookup_value: Any = (
            jsonpath(ctx, lv, spath + ("lookupValue",)) if str(lv).startswith("$") else template(ctx, lv, spath + ("lookupValue",))
        )
        return m.Step(
            "lookup", name, index=index, match=str(s.get("match", "")), lookup_value=lookup_value,
            fields=[str(f) for f in as_list(s.get("outputParameters"))],
        )
    if kind == "script":
        return m.Step("script", name, script=script_step(ctx, s, spath), with_=with_values(ctx, s.get("with"), prefixes, spath + ("with",)))
    ctx.error(f"unknown step type '{kind}' (call, lookup, script)", spath + ("type",))
    return None


def mappings(ctx: Context, raw: Any, path: YPath) -> list[m.Mapping]:
    out = []
    for i, mp in enumerate(as_list(raw)):
        mp = as_dict(mp)
        jp = jsonpath(ctx, mp.get("value"), path + (i, "value"))
        if jp is not None:
            out.append(m.Mapping(str(mp.get("targetName", "")), jp))
    return out


def outputs(ctx: Context, raw: Any, path: YPath) -> list[m.Output]:
    return [output(ctx, o, path + (i,)) for i, o in enumerate(params_list(raw))]


def output(ctx: Context, raw: dict[str, Any], path: YPath) -> m.Output:
    kind = str(raw.get("type", "string"))
    props = raw.get("properties")
    items = raw.get("items")
    out = m.Output(
        type=kind,
        name=as_str(raw.get("name")),
        mapping=jsonpath(ctx, raw.get("mapping"), path + ("mapping",)) if raw.get("mapping") is not None else None,
        value=template(ctx, raw["value"], path + ("value",)) if raw.get("value") is not None else None,
        const=raw.get("const"),
    )
    if isinstance(props, dict):
        out.properties = {str(k): output(ctx, as_dict(v), path + ("properties", k)) for k, v in props.items()}
    if isinstance(items, dict):
        out.items = output(ctx, items, path + ("items",))
    elif isinstance(items, list):
        out.items = [output(ctx, as_dict(v), path + ("items", i)) for i, v in enumerate(items)]
    if kind == "object" and out.properties is not None and out.mapping is not None and not out.mapping.is_root:
        ctx.warn(
            "an object's own 'mapping' is ignored when it has 'properties' (they are read from the "
            "enclosing node, as the reference engine does)",
            path + ("mapping",),
        )
    return out


def hints(raw: Any, base: m.Hints | None) -> m.Hints:
    raw = canonical_hints(as_dict(raw))
    base = base or m.Hints()

    def pick(key: str, fallback: bool | None) -> bool | None:
        value = raw.get(key)
        return value if isinstance(value, bool) else fallback

    return m.Hints(
        read_only=pick("readOnly", base.read_only),
        destructive=pick("destructive", base.destructive),
        idempotent=pick("idempotent", base.idempotent),
        open_world=pick("openWorld", base.open_world),
    )


def exposed_inputs(ctx: Context, raw: Any, path: YPath, *, rest: bool) -> list[m.InputParam]:
    out = []
    for i, p in enumerate(params_list(raw)):
        if ctx.broken_at(path + (i,)) is not None:
            continue  # a broken parameter is left out; its operation still runs
        name = str(p.get("name", ""))
        with ctx.part("parameter", name) as part:
            value = p.get("value")
            jp: JsonPath | str | None = None
            if isinstance(value, str) and value.startswith("$"):
                jp = jsonpath(ctx, value, path + (i, "value"))
            elif value is not None:
                jp = str(value)
            location = as_str(p.get("in")) if rest else None
            pattern = as_str(p.get("pattern"))
            regex = None
            if pattern:
                try:
                    regex = re.compile(pattern)
                except re.error as exc:
                    ctx.error(f"pattern is not a valid regular expression: {exc}", path + (i, "pattern"))
                    pattern = None
            required_default = (location == "path") if rest else True
            out.append(
                m.InputParam(
                    name=name,
                    location=location,
                    type=str(p.get("type", "string")),
                    description=as_str(p.get("description")),
                    required=bool(p.get("required", required_default)),
                    pattern=pattern,
                    value=jp,
                    items=as_dict(p.get("items")) or None,
                    regex=regex,
                    enum=list(p["enum"]) if isinstance(p.get("enum"), list) else None,
                    example=p.get("example"),
                )
            )
            if part in ctx.disabled:
                out.pop()  # a broken parameter is left out; its operation still runs
    return out


def aggregate(ctx: Context, raw: dict[str, Any], path: YPath) -> None:
    namespace = str(raw.get("namespace", ""))
    for i, fn in enumerate(as_list(raw.get("functions"))):
        if not isinstance(fn, dict):
            continue
        result = action(ctx, fn, namespace, path + ("functions", i), kind="function",
                        part_name=f"{namespace}.{fn.get('name', '')}", rest=False)
        semantics = as_dict(fn.get("semantics"))
        derived = m.Hints()
        if "safe" in semantics:
            derived.read_only = bool(semantics["safe"])
            if semantics["safe"]:
                derived.destructive = False
        if "idempotent" in semantics:
            derived.idempotent = bool(semantics["idempotent"])
        result.hints = hints(fn.get("hints"), derived)
        ctx.aggregates[f"{namespace}.{result.name}"] = result
