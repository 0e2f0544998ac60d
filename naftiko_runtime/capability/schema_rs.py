"""The schema check by ``jsonschema-rs`` (compiled), its errors seen as python-jsonschema's.

:mod:`.schema_messages` words errors from the attributes of python-jsonschema's ``ValidationError``
(keyword, keyword value, the subschema by identity, the instance, the paths, and the per-branch
``context`` of ``anyOf``/``oneOf``). :class:`RsError` offers the same attributes, taken from our own
loaded schema and document (never from jsonschema-rs's copies, which lose key order and identity),
and :func:`iter_errors` yields them in python-jsonschema's order: a depth-first walk of the schema in
its key order (``then``/``else`` where their ``if`` is, ``properties`` in schema order, items and
extra keys in document order), so both backends give the same issues in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs

_APPLICATORS_BY_INDEX = ("allOf", "anyOf", "oneOf", "prefixItems")


class RsError:
    """One jsonschema-rs error with the attributes :mod:`.schema_messages` reads.

    The branches of an ``anyOf``/``oneOf`` are adapted when first read (:attr:`branches`): most explanations read
    only the branch the object means, and adapting and ordering the others was a third of the adapter's work.
    """

    __slots__ = ("_branches", "_context", "absolute_path", "absolute_schema_path", "instance", "message",
                 "relative_schema_path", "schema", "validator", "validator_value")

    def __init__(self, error: Any, checker: RsChecker, document: Any, branch: int | None = None) -> None:
        path = error.schema_path
        kind = error.kind
        self.validator: str = str(path[-1])
        self.schema = checker.node(path[:-1])
        self.validator_value = self.schema.get(self.validator) if isinstance(self.schema, dict) else None
        self.absolute_path = tuple(error.instance_path)
        self.absolute_schema_path = tuple(error.evaluation_path)
        self.relative_schema_path = (branch,) if branch is not None else ()
        if kind.name == "propertyNames":
            self.instance = kind.error.instance  # the offending key, as python-jsonschema reports it
        else:
            self.instance = _walk(document, self.absolute_path)
        self.message = _message(self, error)
        self._context: list[RsError] | None = None
        self._branches: dict[int, Branch] = {}
        if kind.name in ("anyOf", "oneOf"):
            self._branches = {index: Branch(errors, checker, document, index)
                              for index, errors in enumerate(kind.context or []) if errors}

    @property
    def branches(self) -> dict[int, Branch]:
        """The failing branches by index, each with its errors in python-jsonschema's order (as `context` groups them)."""
        return self._branches

    @property
    def context(self) -> list[RsError]:
        """python-jsonschema's `context`: every branch's errors, branch by branch."""
        if self._context is None:
            self._context = [e for branch in self._branches.values() for e in branch]
        return self._context


class Branch:
    """The errors of one failing alternative: counted at once, adapted and ordered when first iterated."""

    __slots__ = ("_adapted", "_raw", "checker", "document", "index")

    def __init__(self, raw: list[Any], checker: RsChecker, document: Any, index: int) -> None:
        self._raw, self.checker, self.document, self.index = raw, checker, document, index
        self._adapted: list[RsError] | None = None

    def __len__(self) -> int:
        return len(self._raw)

    def __iter__(self) -> Iterator[RsError]:
        if self._adapted is None:
            adapted = [RsError(sub, self.checker, self.document, self.index) for sub in self._raw]
            if len(adapted) > 1:
                adapted.sort(key=lambda e: self.checker.order(e, self.document))
            self._adapted = adapted
        return iter(self._adapted)


def _walk(document: Any, path: tuple[Any, ...]) -> Any:
    node = document
    for part in path:
        node = node[part]
    return node


def _message(error: RsError, raw: Any) -> str:
    """python-jsonschema's wording where the messages use it (they parse or show these two)."""
    if error.validator == "required":
        return f"{raw.kind.property!r} is a required property"
    if error.validator == "not":
        return f"{error.instance!r} should not be valid under {error.validator_value!r}"
    return str(raw.message)


class RsChecker:
    """A compiled validator for one loaded schema (which must stay alive: errors point into it)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.validator = jsonschema_rs.validator_for(schema)
        self._nodes: dict[tuple[Any, ...], Any] = {}
        self._refs: dict[str, Any] = {}
        self._plans: dict[tuple[Any, ...], list[int | str]] = {}

    def node(self, path: Any) -> Any:
        """The subschema at a keyword location (a path inside the schema document)."""
        key = tuple(path)
        found = self._nodes.get(key)
        if found is None:
            found = self.schema
            for part in key:
                found = found[part] if isinstance(found, list) else found[str(part)]
            self._nodes[key] = found
        return found

    def resolve(self, ref: str) -> Any:
        found = self._refs.get(ref)
        if found is None:
            if not ref.startswith("#"):
                raise ValueError(f"only local references are supported, not {ref!r}")
            found = self._refs[ref] = self.node(p.replace("~1", "/").replace("~0", "~") for p in ref[1:].split("/") if p)
        return found

    def iter_errors(self, document: Any) -> Iterator[RsError]:
        errors = [RsError(e, self, document) for e in self.validator.iter_errors(document)]
        errors.sort(key=lambda e: self.order(e, document))
        return iter(errors)

    def order(self, error: RsError, document: Any) -> tuple[int, ...]:
        """Where python-jsonschema would yield `error`: ordinals along its walk of schema and document."""
        plan = self._plans.get(error.absolute_schema_path)
        if plan is None:
            plan = self._plans[error.absolute_schema_path] = _compact(self._plan(error.absolute_schema_path))
        key: list[int] = []
        inst: Any = document
        path = error.absolute_path
        depth = 0  # how much of the instance path is consumed
        for constants, step in plan:
            key += constants
            if step is None:
                continue
            if step == "descend" or step == "item":
                if depth < len(path) and isinstance(inst, (dict, list)):
                    part = path[depth]
                    if step == "item":
                        key.append(part if isinstance(part, int) else _position(inst, part))
                    inst, depth = inst[part], depth + 1
            elif step == "name":
                key.append(_position(inst, error.instance))
            elif step == "required" and isinstance(error.validator_value, list):
                missing = error.message.split(" is a required property")[0]
                names = [repr(n) for n in error.validator_value]
                key.append(names.index(missing) if missing in names else len(names))
        return tuple(key)

    def _plan(self, evaluation: tuple[Any, ...]) -> list[int | str]:
        """The schema-only part of :meth:`order`, the same for every error at one evaluation path."""
        plan: list[int | str] = []
        node: Any = self.schema
        i = 0
        while i < len(evaluation):
            word = evaluation[i]
            keys = list(node) if isinstance(node, dict) else []
            slot = "if" if word in ("then", "else") and "if" in keys else word
            plan.append(keys.index(slot) if slot in keys else len(keys))
            if i == len(evaluation) - 1:  # the failing keyword itself
                if word == "required":
                    plan.append("required")
                break
            if word == "$ref":
                node = self.resolve(node["$ref"])
                i += 1
            elif word in ("properties", "patternProperties"):
                name = evaluation[i + 1]
                plan.append(list(node[word]).index(name) if name in node[word] else 0)
                plan.append("descend")
                node, i = node[word][name], i + 2
            elif word in _APPLICATORS_BY_INDEX:
                index = int(evaluation[i + 1])
                plan.append(index)
                node, i = node[word][index], i + 2
            elif word in ("items", "additionalProperties"):
                plan.append("item")
                node, i = node[word], i + 1
            elif word == "propertyNames":
                plan.append("name")
                node, i = node[word], i + 1
            else:  # then, else, not, if, contains, ...: into the subschema
                node, i = node[word], i + 1
        return plan


def _compact(plan: list[int | str]) -> list[tuple[tuple[int, ...], str | None]]:
    """Group a plan's constant ordinals with the document step that follows them (fewer steps per error)."""
    out: list[tuple[tuple[int, ...], str | None]] = []
    constants: list[int] = []
    for step in plan:
        if isinstance(step, int):
            constants.append(step)
        else:
            out.append((tuple(constants), step))
            constants = []
    out.append((tuple(constants), None))
    return out


def _position(inst: Any, key: Any) -> int:
    if isinstance(inst, dict):
        for n, k in enumerate(inst):
            if k == key:
                return n
    return 0
