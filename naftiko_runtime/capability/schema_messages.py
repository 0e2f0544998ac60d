"""Author-friendly messages for JSON Schema violations of an alpha2 document.

``oneOf``/``anyOf`` failures are resolved to the branch the object evidently meant (its ``type``, or the
presence of ``call``/``steps``/``ref``/...), and only that branch's own errors are reported. Each issue
carries, besides its message, the keyword violated, the fields concerned and the owning object's title,
so that nothing downstream reads message text. The deviation codes attached here are the `schema`
rows of :mod:`.deviations`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .schema_issue import SchemaIndex, SchemaIssue

if TYPE_CHECKING:  # jsonschema is imported only when it is the backend in use
    from jsonschema.exceptions import ValidationError

    from .schema_rs import RsError

    ValidationError = ValidationError | RsError


def explain(error: ValidationError, ix: SchemaIndex) -> Iterator[SchemaIssue]:
    """The author-facing issues one schema error stands for (python-jsonschema's, or jsonschema-rs's adapted)."""
    return _explain(error, ix)


# Keys whose presence says which alternative of a oneOf/anyOf an object means, with their strength.
_DISCRIMINATORS: dict[str, int] = {
    "ref": 5, "steps": 4, "call": 4, "location": 4, "template": 4, "from": 4, "instruction": 4,
    "capability": 4, "consumes": 4, "exposes": 4, "operations": 4, "forward": 4,
    "mapping": 4, "value": 4, "outputParameters": 1,
}

_TYPE_WORDS = {
    "object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
    "number": "a number", "boolean": "true or false", "null": "null",
}

# Tolerated shapes of names outside the identifier classes (see DEVIATIONS).
_LOOSE_NAME = re.compile(r"[^\s'\"`]+")
_PARAM_NAME = re.compile(r"[a-zA-Z0-9_*.\[\]:-]+")
# Definitions whose required `description` may be missing (deviation `missing-description`).
_DESCRIBED_DEFS = frozenset({"ExposedInputParameter", "McpToolInputParameter", "McpTool", "SkillTool"})

_REQUIRED_RE = re.compile(r"^'(.+)' is a required property$")


def _a(title: str) -> str:
    """Prefix a title with its indefinite article."""
    first = title.split(" ", 1)[0]
    if first in ("MCP", "HTTP", "API", "OAuth", "OTLP", "SCREAMING_SNAKE_CASE") or first[:1].lower() in "aeiou":
        return f"an {title}"
    return f"a {title}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:77] + "...")
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _describe_type(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if value is None:
        return "null (empty value)"
    if isinstance(value, str):
        return f"a string ({_show(value)})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _field(path: tuple[str | int, ...]) -> str:
    """How to name the value at `path` in a message: its key, or `key[i]` for a list item."""
    if not path:
        return "document"
    if isinstance(path[-1], int):
        parent = next((p for p in reversed(path) if isinstance(p, str)), "item")
        return f"{parent}[{path[-1]}]"
    return str(path[-1])


def _title(ix: SchemaIndex, schema: Any) -> str | None:
    return ix.title_of.get(id(schema))


def _def(ix: SchemaIndex, schema: Any) -> str | None:
    return ix.def_of.get(id(schema))


def _join_or(items: list[str], word: str = "or") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _explain(error: ValidationError, ix: SchemaIndex) -> Iterator[SchemaIssue]:
    path = tuple(error.absolute_path)
    kind = error.validator
    if kind in ("oneOf", "anyOf"):
        yield from _explain_alternatives(error, path, ix)
    else:
        yield from _explain_leaf(error, path, ix)


def _branch_keys(branch: Any) -> list[str]:
    if not isinstance(branch, dict):
        return []
    return [k for k in branch.get("required", []) if k in _DISCRIMINATORS]


def _by_branch(error: ValidationError) -> Mapping[int, Collection[ValidationError]]:
    """The errors of `error.context` grouped by branch; jsonschema-rs's adapter has them so (read lazily)."""
    branches = getattr(error, "branches", None)
    if branches is not None:
        return branches  # type: ignore[no-any-return]
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    return by_branch


def _explain_alternatives(error: ValidationError, path: tuple[str | int, ...], ix: SchemaIndex) -> Iterator[SchemaIssue]:
    branches: list[Any] = list(error.validator_value)
    instance = error.instance
    owner = _title(ix, error.schema) or "value"
    is_root = _def(ix, error.schema) == "Document"

    by_branch = _by_branch(error)
    if not by_branch:
        # oneOf: valid under more than one branch.
        if not isinstance(instance, dict):
            return  # key-presence alternatives say nothing about a non-mapping; its type error is reported
        present = [k for b in branches for k in _branch_keys(b) if isinstance(instance, dict) and k in instance]
        present = list(dict.fromkeys(present))
        if is_root:
            yield SchemaIssue(path, "a document has both 'capability' and a root 'consumes': it is either an adapter "
                                    "document (capability) or a shared consumes file (consumes), not both")
        elif len(present) > 1:
            quoted = [f"'{k}'" for k in present]
            yield SchemaIssue(path, f"{_a(owner)} takes only one of {_join_or(quoted)}, not several")
        else:
            yield SchemaIssue(path, f"{_a(owner)} matches several alternatives; make it unambiguous")
        return

    # Exclusive alternatives (oneOf) whose keys are combined, e.g. an MCP resource with `call` and `location`.
    if error.validator == "oneOf" and isinstance(instance, dict):
        keyed = [_branch_keys(b) for b in branches]
        hit = [keys for keys in keyed if keys and all(k in instance for k in keys)]
        if len(hit) > 1:
            options = list(dict.fromkeys(k for keys in keyed for k in keys))
            yield SchemaIssue(path, f"{_a(owner)} takes only one of {_join_or([repr(k) for k in options])}, "
                                    "not several")
            return

    # Alternatives that differ only by the presence of keys: say which keys are expected.
    if isinstance(instance, dict):
        candidates = []
        for index, branch in enumerate(branches):
            keys = _branch_keys(branch)
            if all(k in instance for k in keys):
                score = sum(_DISCRIMINATORS[k] for k in keys)
                candidates.append((-score, len(by_branch.get(index, [])), index))
        if not candidates:
            options = []
            for branch in branches:
                keys = _branch_keys(branch)
                label = " + ".join(f"'{k}'" for k in keys) if keys else "?"
                options.append(label)
            options = list(dict.fromkeys(options))
            if is_root:
                msg = ("a document needs either 'capability' (an adapter document) or a root 'consumes' "
                       "(a shared consumes file)")
            else:
                msg = f"{_a(owner)} needs {_join_or(options)}"
            yield SchemaIssue(path, msg)
            return
        candidates.sort()
        chosen = candidates[0][2]
    else:
        chosen = None

    if chosen is None or chosen not in by_branch:
        # Non-object alternatives (e.g. an address): list what was expected.
        titles = [b.get("title") for b in branches if isinstance(b, dict) and b.get("title")]
        if titles:
            yield SchemaIssue(path, f"{_field(path)}: expected {_a(_join_or(titles))}, got {_show(instance)}")
        else:
            best = min(error.context, key=lambda e: len(list(e.context or [])))
            yield from _explain(best, ix)
        return
    for sub in by_branch[chosen]:
        yield from _explain(sub, ix)


def _explain_leaf(error: ValidationError, path: tuple[str | int, ...], ix: SchemaIndex) -> Iterator[SchemaIssue]:
    owner = _title(ix, error.schema) if isinstance(error.schema, dict) else None
    keyword = str(error.validator)
    for issue in _leaf(error, path, ix):  # the issue again, with its keyword and owner (dataclasses.replace costs more)
        yield SchemaIssue(issue.path, issue.message, issue.deviation, keyword, issue.fields, owner)


def _leaf(error: ValidationError, path: tuple[str | int, ...], ix: SchemaIndex) -> Iterator[SchemaIssue]:
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    owner = _title(ix, schema)
    defname = _def(ix, schema)
    field = _field(path)

    if "propertyNames" in error.absolute_schema_path:
        # A mapping key is wrong: point at the key itself.
        expected = owner or (f"a value matching {error.validator_value}" if kind == "pattern" else "a string")
        yield SchemaIssue(path + (instance,), f"key {_show(instance)}: expected {_a(expected)}")
        return

    if kind == "required":
        match = _REQUIRED_RE.match(error.message)
        missing = match.group(1) if match else str(error.validator_value)
        if defname == "MappedObjectOutput" and missing == "properties" and isinstance(instance, dict) and (
            "mapping" in instance or "value" in instance
        ):
            yield SchemaIssue(path, "'properties' is required for an object output (an object with only "
                                    "'mapping'/'value' is passed through as is)", "object-output-without-properties", fields=(missing,))
            return
        if defname == "Info" and missing == "label" and isinstance(instance, dict):
            used = next((k for k in ("title", "name") if isinstance(instance.get(k), str)), None)
            said = f"'{used}' is used as the label" if used else "the file has no label"
            yield SchemaIssue(path, f"'label' is required for info ({said})", "info-metadata", fields=(missing,))
            return
        if defname == "Info" and missing == "description":
            yield SchemaIssue(path, "'description' is required for info (nothing reads it)", "info-metadata",
                              fields=(missing,))
            return
        if missing == "description" and defname in _DESCRIBED_DEFS:
            yield SchemaIssue(path, f"'description' is required for {_a(owner or defname)} "
                                    "(the name or label is used instead)", "missing-description", fields=(missing,))
            return
        if defname == "Document" and missing == "naftiko":
            yield SchemaIssue(path, "'naftiko' is required: the specification version, naftiko: 1.0.0-alpha2")
            return
        where = f" for {_a(owner)}" if owner else ""
        yield SchemaIssue(path, f"'{missing}' is required{where}", fields=(missing,))
        return

    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed] if isinstance(instance, dict) else []
        tolerated: list[str] = []
        code = None
        if defname == "ConsumedInputParameter":
            tolerated = [k for k in extras if k in ("type", "description", "required")]
            code = "consumed-param-extra-fields"
        elif defname == "ExposesRest":
            tolerated = [k for k in extras if k == "description"]
            code = "rest-adapter-description"
        elif defname == "Info":
            tolerated = list(extras)
            code = "info-metadata"
        others = [k for k in extras if k not in tolerated]
        what = _a(owner) if owner else "this object"
        if tolerated:
            note = {
                "consumed-param-extra-fields": "a consumed input parameter has only name, in and value",
                "rest-adapter-description": "a REST adapter has no description",
                "info-metadata": "info is descriptive only; alpha2 defines label, description, tags, created, "
                                 "modified, stakeholders",
            }[code]
            yield SchemaIssue(path, f"{_unknown(tolerated)} ({note})", code, fields=tuple(tolerated))
        if others:
            yield SchemaIssue(path, f"{_unknown(others)} in {what} (allowed: {', '.join(allowed)})", fields=tuple(others))
        return

    if kind == "enum":
        options = ", ".join(v if isinstance(v, str) else json.dumps(v) for v in error.validator_value)
        yield SchemaIssue(path, f"{field}: expected one of {options}, got {_show(instance)}")
        return

    if kind == "const":
        expected = error.validator_value
        yield SchemaIssue(path, f"{field}: expected {_show(expected)}, got {_show(instance)}")
        return

    if kind == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        words = _join_or([_TYPE_WORDS.get(w, w) for w in wanted])
        yield SchemaIssue(path, f"{field}: expected {words}, got {_describe_type(instance)}")
        return

    if kind == "pattern":
        expected = owner or f"a value matching {error.validator_value}"
        if isinstance(instance, str) and len(path) >= 3 and path[-1] == "name":
            if path[-3] == "resources" and defname == "KebabIdentifier" and _LOOSE_NAME.fullmatch(instance):
                yield SchemaIssue(path, f"name: expected {_a(expected)}, got {_show(instance)} "
                                        "(kept as given: resource names are labels)", "resource-name-not-kebab")
                return
            if path[-3] == "inputParameters" and defname == "ExtendedIdentifier" and _PARAM_NAME.fullmatch(instance):
                yield SchemaIssue(path, f"name: expected {_a(expected)}, got {_show(instance)} "
                                        "(sent upstream unchanged)", "param-name-chars")
                return
        article = expected if owner is None else _a(expected)
        yield SchemaIssue(path, f"{field}: expected {article}, got {_show(instance)}")
        return

    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        noun = "an integer" if schema.get("type") == "integer" else "a number"
        if low is not None and high is not None:
            rng = f"{noun} from {low} to {high}"
        elif low is not None:
            rng = f"{noun} of at least {low}"
        else:
            rng = f"{noun} of at most {high}"
        yield SchemaIssue(path, f"{field}: expected {rng}, got {_show(instance)}")
        return

    if kind == "minItems":
        n = error.validator_value
        msg = f"'{field}' must not be empty" if n == 1 else f"'{field}' needs at least {n} items"
        yield SchemaIssue(path, msg)
        return

    if kind == "minLength":
        n = error.validator_value
        msg = f"{field}: must not be empty" if n == 1 else f"{field}: needs at least {n} characters"
        yield SchemaIssue(path, msg)
        return

    if kind == "maxLength":
        yield SchemaIssue(path, f"{field}: at most {error.validator_value} characters allowed, got {len(instance)}")
        return

    if kind == "not":
        negated = error.validator_value if isinstance(error.validator_value, dict) else {}
        names = list(negated.get("required", []))
        for alt in negated.get("anyOf", []):
            names.extend(alt.get("required", []) if isinstance(alt, dict) else [])
        present = [n for n in names if isinstance(instance, dict) and n in instance]
        reason = schema.get("description")
        if present:
            where = f": {reason}" if reason else (f" in {_a(owner)}" if owner else " here")
            yield SchemaIssue(path, f"{_unknown_list(present)} not allowed{where}")
        else:
            yield SchemaIssue(path, f"{field}: {error.message}")
        return

    if kind == "maxItems":
        yield SchemaIssue(path, f"'{field}' takes at most {error.validator_value} items")
        return

    # Keywords the alpha2 schema does not use today: keep jsonschema's wording, but short.
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    yield SchemaIssue(path, f"{field}: {message}")


def _unknown(keys: list[str]) -> str:
    quoted = ", ".join(f"'{k}'" for k in keys)
    return f"unknown field {quoted}" if len(keys) == 1 else f"unknown fields {quoted}"


def _unknown_list(keys: list[str]) -> str:
    quoted = _join_or([f"'{k}'" for k in keys], "and")
    return f"{quoted} is" if len(keys) == 1 else f"{quoted} are"
