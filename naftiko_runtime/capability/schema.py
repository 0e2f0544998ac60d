"""JSON Schema check of a Naftiko ``1.0.0-alpha2`` document.

The schema is our own (``schemas/naftiko-1.0.0-alpha2.json``, shipped inside the package as
``naftiko_runtime/spec/schema/naftiko-1.0.0-alpha2.json``). :func:`check_schema` validates an already
parsed YAML document (plain dicts/lists/scalars) and turns every violation into a :class:`SchemaIssue`
with the instance path and an author-friendly message. ``oneOf``/``anyOf`` failures are resolved to the
branch the object evidently meant (its ``type``, or the presence of ``call``/``steps``/``ref``/...), and
only that branch's own errors are reported.

Some violations are made by most real published files and are harmless; they carry a stable
``deviation`` code (see :data:`DEVIATIONS`). The default validation level reports them as warnings,
``--strict`` as errors. Everything else has ``deviation=None`` and makes the document invalid.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

__all__ = [
    "SCHEMA_FILENAME",
    "DEVIATIONS",
    "SEMANTIC_DEVIATIONS",
    "SchemaIssue",
    "check_schema",
    "load_schema",
    "schema_path",
]

SCHEMA_FILENAME = "naftiko-1.0.0-alpha2.json"

#: Deviation codes that :func:`check_schema` may attach to an issue, each with why it is tolerated and
#: what the runtime does with it.
DEVIATIONS: dict[str, str] = {
    # Each text is "why it is tolerated; what the runtime does" with exactly one ';' (the loader splits on it).
    "consumed-param-extra-fields": (
        "A consumed inputParameter carries `type`, `description` or `required`, which alpha2 does not define but "
        "the reference engine reads; the runtime uses them for MCP input schemas and required-argument checks."
    ),
    "rest-adapter-description": (
        "A `type: rest` adapter has a `description` (alpha2 gives only MCP and skill adapters one) and nothing "
        "reads it; the runtime ignores it."
    ),
    "object-output-without-properties": (
        "A `type: object` output has `mapping` (or `value`) but no `properties`, for which the reference engine "
        "returns `{}`; the runtime passes the mapped subtree through unchanged."
    ),
    "resource-name-not-kebab": (
        "A resource `name` has characters besides letters, digits and `-` (e.g. `plan_id`, `emoji.list`, "
        "`#Create`, copied from upstream paths) but no `call` refers to resource names; the runtime keeps the name as given."
    ),
    "param-name-chars": (
        "An input parameter `name` uses `.`, `[`, `]` or `:` as real upstream names do (`filter[tags]`, `svm.name`, "
        "`id:in`, which the reference regex even admits in part by accident); the runtime sends the name unchanged."
    ),
    "missing-description": (
        "A `description` that alpha2 requires is absent (exposed or tool input parameter, MCP tool, skill tool) "
        "although nothing depends on it; the runtime falls back to the label or the name."
    ),
    "info-metadata": (
        "`info` uses `title` instead of `label`, or carries extra descriptive fields such as `personas`, and `info` "
        "is never interpreted; the runtime shows `title` as the label and ignores the rest."
    ),
}

#: Deviation codes that the schema cannot see; the semantic checks (not this module) emit them.
#: Listed here so that every tolerated deviation has one code and one explanation.
SEMANTIC_DEVIATIONS: dict[str, str] = {
    "single-brace-placeholder": (
        "A consumed resource path uses OpenAPI `{x}` instead of `{{x}}`, which alpha2 does not constrain and the "
        "reference engine leaves literal; the runtime substitutes `{x}` like `{{x}}`."
    ),
    "with-reference-prefix": (
        "A `with` value is `rest.x`, `tools.x` or `mcp.x`, which the schema allows as any string and the reference "
        "engine sends literally; the runtime treats it as a reference to the incoming value `x`."
    ),
}


@dataclass(frozen=True)
class SchemaIssue:
    """One schema violation.

    ``path`` is the instance path from the document root (mapping keys and list indexes), e.g.
    ``("capability", "exposes", 0, "resources", 2)``; ``deviation`` is a :data:`DEVIATIONS` code when the
    violation is a tolerated real-world deviation, else ``None``.
    """

    path: tuple[str | int, ...]
    message: str
    deviation: str | None = None


# ----------------------------------------------------------------------------------------------- loading


def schema_path() -> Path:
    """Filesystem path of the bundled schema (falls back to the repository's ``schemas/`` folder)."""
    packaged = resources.files("naftiko_runtime").joinpath("spec", "schema", SCHEMA_FILENAME)
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "schemas" / SCHEMA_FILENAME


@functools.cache
def load_schema() -> dict[str, Any]:
    """The schema as a dict (loaded once; treat it as read-only)."""
    with open(schema_path(), encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def _validator() -> Draft202012Validator:
    # No format checker: `format` stays an annotation, as alpha2 intends.
    return Draft202012Validator(load_schema())


@functools.cache
def _index() -> tuple[dict[int, str], dict[int, str]]:
    """Maps id(subschema) → its $defs name, and id(subschema) → a human title for messages."""
    schema = load_schema()
    def_of: dict[int, str] = {id(schema): "Document"}
    title_of: dict[int, str] = {}
    for name, sub in schema.get("$defs", {}).items():
        def_of[id(sub)] = name
        # The alternatives of a definition belong to it too (e.g. an MCP tool's "call mode").
        for key in ("anyOf", "oneOf"):
            for branch in sub.get(key, []) if isinstance(sub, dict) else []:
                if isinstance(branch, dict):
                    def_of.setdefault(id(branch), name)

    def walk(node: Any, inherited: str | None, branch_of: str | None = None) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, inherited)
            return
        if not isinstance(node, dict):
            return
        own = node.get("title")
        if own and branch_of:
            title = f"{branch_of} ({own})"
        else:
            title = own or inherited
        if title:
            title_of[id(node)] = title
        for key, value in node.items():
            if key in ("anyOf", "oneOf") and isinstance(value, list):
                for item in value:
                    walk(item, title, branch_of=title)
            elif key in ("if", "then", "else", "not", "allOf"):
                walk(value, title)
            elif key in ("properties", "$defs", "patternProperties", "dependentSchemas") and isinstance(value, dict):
                for sub in value.values():
                    walk(sub, None)
            elif key in ("items", "additionalProperties", "propertyNames", "contains", "unevaluatedProperties"):
                walk(value, None)

    walk(schema, "document")
    title_of[id(schema)] = "document"
    return def_of, title_of


# ----------------------------------------------------------------------------------------------- public API


def check_schema(document: Any) -> list[SchemaIssue]:
    """Validate a parsed document against the alpha2 schema; return one issue per violation (empty if valid)."""
    issues: list[SchemaIssue] = []
    seen: set[SchemaIssue] = set()
    for error in _validator().iter_errors(document):
        for issue in _explain(error):
            if issue not in seen:
                seen.add(issue)
                issues.append(issue)
    return issues


# ----------------------------------------------------------------------------------------------- messages

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


def _title(schema: Any) -> str | None:
    return _index()[1].get(id(schema))


def _def(schema: Any) -> str | None:
    return _index()[0].get(id(schema))


def _join_or(items: list[str], word: str = "or") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _explain(error: ValidationError) -> Iterator[SchemaIssue]:
    path = tuple(error.absolute_path)
    kind = error.validator
    if kind in ("oneOf", "anyOf"):
        yield from _explain_alternatives(error, path)
    else:
        yield from _explain_leaf(error, path)


def _branch_keys(branch: Any) -> list[str]:
    if not isinstance(branch, dict):
        return []
    return [k for k in branch.get("required", []) if k in _DISCRIMINATORS]


def _explain_alternatives(error: ValidationError, path: tuple[str | int, ...]) -> Iterator[SchemaIssue]:
    branches: list[Any] = list(error.validator_value)
    instance = error.instance
    owner = _title(error.schema) or "value"
    is_root = _def(error.schema) == "Document"

    if not error.context:
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

    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)

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
            yield from _explain(best)
        return
    for sub in by_branch[chosen]:
        yield from _explain(sub)


def _explain_leaf(error: ValidationError, path: tuple[str | int, ...]) -> Iterator[SchemaIssue]:
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    owner = _title(schema)
    defname = _def(schema)
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
                                    "'mapping'/'value' is passed through as is)", "object-output-without-properties")
            return
        if defname == "Info" and missing == "label" and isinstance(instance, dict) and "title" in instance:
            yield SchemaIssue(path, "'label' is required for info ('title' is used as the label)", "info-metadata")
            return
        if missing == "description" and defname in _DESCRIBED_DEFS:
            yield SchemaIssue(path, f"'description' is required for {_a(owner or defname)} "
                                    "(the name or label is used instead)", "missing-description")
            return
        if defname == "Document" and missing == "naftiko":
            yield SchemaIssue(path, "'naftiko' is required: the specification version, naftiko: 1.0.0-alpha2")
            return
        where = f" for {_a(owner)}" if owner else ""
        yield SchemaIssue(path, f"'{missing}' is required{where}")
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
            yield SchemaIssue(path, f"{_unknown(tolerated)} ({note})", code)
        if others:
            yield SchemaIssue(path, f"{_unknown(others)} in {what} (allowed: {', '.join(allowed)})")
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


def _is_consumed_resource(path: tuple[str | int, ...]) -> bool:
    """True for a path like (..., 'consumes', i, 'resources', j, 'name')."""
    return len(path) >= 5 and path[-3] == "resources" and path[-5] == "consumes"


def _flatten(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:  # pragma: no cover - debug aid
    for error in errors:
        yield error
        yield from _flatten(error.context or [])
