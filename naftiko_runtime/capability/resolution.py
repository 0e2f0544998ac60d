"""Which consumed operation a `call: namespace.name` means.

alpha2 only requires operation names to be unique within a resource, and the reference
engine takes the first operation of that name anywhere in the namespace: in the
Humanitec event file, "Delete a Webhook" then deletes every job of the app. We score
each candidate against what the call site tells us (its HTTP method, the exposed path,
the names it provides, its description) and explain the choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..expressions.paths import PathTemplate
from .model import ConsumedApi, ConsumedOperation


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


def _fold(names: set[str] | list[str]) -> set[str]:
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


def resolve_operation(api: ConsumedApi, name: str, site: CallSite) -> Resolved:
    """Resolve `name` (`op` or `resource.op`) within `api`."""
    if "." in name:
        resource, _, op_name = name.partition(".")
        for op in api.operations:
            if op.resource == resource and op.name == op_name:
                return Resolved(op)
        return Resolved(None, f"no operation '{op_name}' in resource '{resource}' of consumes '{api.namespace}'")
    candidates = [op for op in api.operations if op.name == name]
    if not candidates:
        known = ", ".join(sorted({op.name for op in api.operations})) or "none"
        return Resolved(None, f"call '{api.namespace}.{name}' names no operation of consumes '{api.namespace}' (known: {known})")
    if len(candidates) == 1:
        return Resolved(candidates[0])
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


def _variant(a: str, b: str) -> bool:
    """`youtube-data` and `youtube-data-api`: one name is the other plus a `-`-separated prefix or suffix."""
    short, long = sorted((a, b), key=len)
    return long != short and (long.startswith(short + "-") or long.endswith("-" + short))


def resolve_namespace(apis: dict[str, ConsumedApi], namespace: str, name: str) -> tuple[ConsumedApi | None, str]:
    """The consumes a call whose namespace is declared nowhere unambiguously means, with why (else None).

    First a declared namespace that is the only prefix/suffix variant of the written one and has the
    operation; else the one namespace holding exactly one operation of that name in the whole file.
    """
    op_name = name.split(".")[-1]

    def holds(api: ConsumedApi) -> int:
        return sum(1 for op in api.operations if op.name == op_name)

    variants = [api for ns, api in apis.items() if _variant(ns, namespace)]
    if len(variants) == 1 and holds(variants[0]):
        chosen = variants[0]
        why = f"'{chosen.namespace}' is the only declared namespace of which '{namespace}' is a prefix/suffix variant"
    else:
        holding = [api for api in apis.values() if holds(api)]
        if len(holding) != 1 or holds(holding[0]) != 1:
            return None, ""
        chosen = holding[0]
        why = f"'{chosen.namespace}' holds the only operation named '{op_name}' in this file"
    return chosen, (
        f"call '{namespace}.{name}' names no consumes namespace '{namespace}'; it resolves to "
        f"'{chosen.namespace}.{name}' because {why}. Write '{chosen.namespace}.{name}' to make it explicit"
    )
