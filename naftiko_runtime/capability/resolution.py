"""Which consumed operation a `call: namespace.name` means.

alpha2 only requires operation names to be unique within a resource, and the reference
engine takes the first operation of that name anywhere in the namespace: in the
Humanitec event file, "Delete a Webhook" then deletes every job of the app. We score
each candidate against what the call site tells us (its HTTP method, the exposed path,
the names it provides, its description) and explain the choice.

A call naming nothing declared is read, when a reader of the file could only agree, by the
readings of `READINGS` (issue 15): the first reading that finds any operation must find exactly
one upstream request, else the call stays unresolved. Operations declared several times alike
(same method, base URI, full path and authentication) are one request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..expressions.paths import PathTemplate
from .model import ConsumedApi, ConsumedOperation

#: The warnings of a call read by a guess (`READINGS`, `resolve_namespace`): shown at start, errors at `--strict`.
GUESSED_CALLS = ("guessed-namespace", "guessed-operation")


@dataclass
class CallSite:
    """What an exposed operation, tool or step says about the call it makes."""

    adapter: str
    method: str | None
    path: PathTemplate | None
    provided: set[str] = field(default_factory=set)
    description: str | None = None
    label: str | None = None


@dataclass
class Resolved:
    operation: ConsumedOperation | None
    message: str = ""
    code: str = "ambiguous-operation"  # the warning `message` is reported as when `operation` is set


def _fold(names: Iterable[str]) -> set[str]:
    return {n.casefold() for n in names}


def _score(op: ConsumedOperation, site: CallSite) -> tuple[int, list[str]]:
    score, reasons = 0, []
    if site.method:
        if op.method == site.method:
            score += 100
            reasons.append(f"its method is {op.method}")
        else:
            score -= 100
    wanted = _fold(op.path.names)
    if site.path is not None:
        exposed, consumed = site.path.shape(), op.path.shape()
        if [s.casefold() for s in exposed[-len(consumed):]] == [s.casefold() for s in consumed]:
            score += 60
            reasons.append(f"its path matches the exposed path {site.path.raw}")
        if _fold(site.path.names) == wanted:
            score += 30
    provided = _fold(site.provided - {"body"})
    if provided and wanted == provided:
        score += 40
        reasons.append("its placeholders are exactly the names the call provides")
    elif wanted <= provided | (_fold(site.path.names) if site.path else set()):
        score += 10
    else:
        score -= 20
    for text in (site.description, site.label):
        if text and op.description and text.strip().casefold() == op.description.strip().casefold():
            score += 15
            reasons.append("its description matches")
            break
    return score, reasons


def same_request(a: ConsumedOperation, b: ConsumedOperation) -> bool:
    """Two declarations that send the same upstream request: same method, base URI, full path and authentication."""
    return (a.method, a.path.raw, a.api.base_uri, a.api.auth) == (b.method, b.path.raw, b.api.base_uri, b.api.auth)


def distinct(ops: Iterable[ConsumedOperation]) -> list[ConsumedOperation]:
    """The first declaration of each distinct upstream request, in file order."""
    out: list[ConsumedOperation] = []
    for op in ops:
        if not any(same_request(op, kept) for kept in out):
            out.append(op)
    return out


def _variant(a: str, b: str) -> bool:
    """`youtube-data` and `youtube-data-api`: one name is the other plus a `-`-separated prefix or suffix."""
    short, long = sorted((a, b), key=len)
    return long != short and (long.startswith(short + "-") or long.endswith("-" + short))


HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")


def _verb_resource(name: str, op: ConsumedOperation) -> bool:
    """`get-volumes`: the resource `volumes`' own GET, the one whose path ends in `/volumes` (not `/volumes/diff`)."""
    verb, _, resource = name.casefold().partition("-")
    segments = op.path.raw.split("#")[0].split("?")[0].rstrip("/").split("/")
    return (verb in HTTP_VERBS and op.method.casefold() == verb and op.resource.casefold() == resource
            and segments[-1].casefold() == resource)


def _bare_verb(name: str, op: ConsumedOperation) -> bool:
    """`list`: a one-word name says what to do, not to what; `list-signals` does it."""
    return bool(name) and "-" not in name and op.name.casefold().startswith(name.casefold() + "-")


def folded(name: str) -> str:
    """A name without case or word separators: `list-targets`, `listTargets` and `list_targets` are one name."""
    return name.replace("-", "").replace("_", "").casefold()


def _respelled(name: str, op: ConsumedOperation) -> bool:
    """`list-targets` for `listTargets`: the same words in another case or with other separators."""
    return folded(op.name) == folded(name)


Readings = tuple[tuple[str, Callable[[str, ConsumedOperation], bool]], ...]

#: How an operation name is read, in order: (what the reading finds, its test). Only the first is alpha2's;
#: a word added to a name with an object is another operation (`get-volumes-diff` is not `get-volumes`).
READINGS: Readings = (
    ("named '{name}'", lambda name, op: op.name == name),
    ("whose name is '{name}' in another case or with other separators", _respelled),
    ("that '{name}' spells as method-resource (the resource's own request, its path ending in the resource name)",
     _verb_resource),
    ("whose name is the bare verb '{name}' with its object ('{name}-…')", _bare_verb),
)


@dataclass
class Reading:
    """An operation name read against a set of operations: the one request it means, else why not."""

    operation: ConsumedOperation | None
    why: str = ""  # which reading found it, or which found several


def read_operation(ops: list[ConsumedOperation], name: str, readings: Readings = READINGS) -> Reading:
    """The first reading of `name` (`op` or `resource.op`) that finds any operation in `ops` decides: one request, or none."""
    resource, _, op_name = name.rpartition(".")
    pool = [op for op in ops if not resource or op.resource == resource]
    for what, test in readings:
        found = [op for op in pool if test(op_name, op)]
        if not found:
            continue
        what = what.format(name=op_name)
        requests = distinct(found)
        copies = f", declared {len(found)} times alike" if len(found) > 1 and len(requests) == 1 else ""
        if len(requests) == 1:
            return Reading(requests[0], f"it is the only operation {what}{copies}")
        listing = "; ".join(f"'{op.namespace}.{op.resource}.{op.name}' ({op.method} {op.path.raw})" for op in requests)
        return Reading(None, f"{len(requests)} different requests are {what} ({listing})")
    return Reading(None)


def _explicit(op: ConsumedOperation) -> str:
    """How to write a call to `op` that needs no reading: `namespace.name`, with its resource when the name repeats."""
    if len(distinct(o for o in op.api.operations if o.name == op.name)) == 1:
        return f"'{op.namespace}.{op.name}'"
    return f"'{op.namespace}.{op.resource}.{op.name}'"


def _qualified(op: ConsumedOperation) -> str:
    return f"'{op.namespace}.{op.resource}.{op.name}' ({op.method} {op.api.base_uri.rstrip('/')}{op.path.raw})"


def resolve_operation(api: ConsumedApi, name: str, site: CallSite) -> Resolved:
    """Resolve `name` (`op` or `resource.op`) within `api`; an absent name by the other `READINGS`."""
    if "." in name:
        resource, _, op_name = name.partition(".")
        for op in api.operations:
            if op.resource == resource and op.name == op_name:
                return Resolved(op)
        return Resolved(None, f"no operation '{op_name}' in resource '{resource}' of consumes '{api.namespace}'")
    candidates = [op for op in api.operations if op.name == name]
    if not candidates:
        return _read_absent(api, name)
    if len(candidates) == 1:
        return Resolved(candidates[0])
    if len(distinct(candidates)) == 1:
        return Resolved(candidates[0], (
            f"operation '{name}' is declared {len(candidates)} times in '{api.namespace}' with the same method, URI and "
            f"authentication; they are one request, {_qualified(candidates[0])}. Declare it once"
        ), "duplicate-operation")
    scored = [(_score(op, site), i, op) for i, op in enumerate(candidates)]
    scored.sort(key=lambda t: (-t[0][0], t[1]))
    (best_score, reasons), _, best = scored[0]
    tie = scored[1][0][0] == best_score
    first = candidates[0]
    listing = "; ".join(f"{op.method} {op.path.raw} (resource {op.resource})" for op in candidates)
    why = " and ".join(reasons) if reasons and not tie else "it is declared first (no better match)"
    message = (
        f"operation name '{name}' is declared in {len(candidates)} resources of '{api.namespace}' ({listing}); "
        f"this call resolves to {best.method} {best.path.raw} because {why}"
    )
    if best is not first:
        message += f". The reference engine would call {first.method} {first.path.raw}"
    message += f". Write '{api.namespace}.{best.resource}.{name}' to make it explicit"
    return Resolved(best, message)


def _read_absent(api: ConsumedApi, name: str) -> Resolved:
    """A name no operation of `api` has: the one request another reading finds in `api`, with a warning."""
    known = ", ".join(sorted({op.name for op in api.operations})) or "none"
    absent = f"call '{api.namespace}.{name}' names no operation of consumes '{api.namespace}'"
    reading = read_operation(api.operations, name, READINGS[1:])
    if reading.operation is None:
        ambiguous = f"; {reading.why}" if reading.why else ""
        return Resolved(None, f"{absent} (known: {known}){ambiguous}")
    op = reading.operation
    return Resolved(op, (
        f"{absent}; it resolves to {_qualified(op)} because {reading.why} in '{api.namespace}'. "
        f"Write {_explicit(op)} to make it explicit"
    ), "guessed-operation")


@dataclass
class GuessedNamespace:
    """What a call to an undeclared namespace means: a namespace (its operation by name), or one operation outright.
    `message` is the warning; without `api`, why no reading decided (empty when none found anything)."""

    api: ConsumedApi | None
    operation: ConsumedOperation | None = None
    message: str = ""


def resolve_namespace(apis: dict[str, ConsumedApi], namespace: str, name: str) -> GuessedNamespace:
    """The consumes a call whose namespace is declared nowhere unambiguously means, with why (else None).

    First a declared namespace that is the only prefix/suffix variant of the written one and has the
    operation; else the one request the whole file's operations give by the first of `READINGS` that finds any.
    """
    op_name = name.split(".")[-1]
    variants = [api for ns, api in apis.items() if _variant(ns, namespace)]
    if len(variants) == 1 and any(folded(op.name) == folded(op_name) for op in variants[0].operations):
        chosen = variants[0]
        return GuessedNamespace(chosen, None, (
            f"call '{namespace}.{name}' names no consumes namespace '{namespace}'; it resolves to "
            f"'{chosen.namespace}.{name}' because '{chosen.namespace}' is the only declared namespace of which "
            f"'{namespace}' is a prefix/suffix variant. Write '{chosen.namespace}.{name}' to make it explicit"
        ))
    reading = read_operation([op for api in apis.values() for op in api.operations], name)
    op = reading.operation
    if op is None:
        return GuessedNamespace(None, None, reading.why)
    return GuessedNamespace(apis.get(op.namespace, op.api), op, (
        f"call '{namespace}.{name}' names no consumes namespace '{namespace}'; it resolves to {_qualified(op)} "
        f"because {reading.why} in this file. Write {_explicit(op)} to make it explicit"
    ))
