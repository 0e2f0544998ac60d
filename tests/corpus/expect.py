"""What a caller sends and which upstream request it should cause, read from the raw YAML.

Deliberately independent of the runtime's model: the expected consumed operation is found
by name in the file's own `consumes` block, so a resolution bug in the runtime shows up as a
miss instead of being copied into the expectation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}|\{([^{}]+)\}")
#: A filled segment part whose value we cannot predict: non-empty, no unfilled placeholder.
ANY_VALUE = r"(?:(?!%7B|%7D)[^/{}])+"
BODY_METHODS = ("POST", "PUT", "PATCH")


@dataclass
class Expected:
    """One upstream request: method and a regex over the raw path; `alternatives` when the call is ambiguous."""

    method: str
    path_regex: str
    shown: str  # the path with the values filled in, for the report

    def matches(self, method: str, raw_path: str) -> bool:
        return method == self.method and re.fullmatch(self.path_regex, raw_path) is not None


@dataclass
class ExpectedCall:
    target: str
    alternatives: list[Expected] = field(default_factory=list)
    problem: str | None = None  # the call names nothing in consumes


def sample(name: str, schema: dict[str, Any] | None, index: int) -> Any:
    """A plausible value for an input of this name and schema; distinct per name so routing is checkable."""
    schema = schema or {}
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    fmt = str(schema.get("format") or "")
    if kind in ("integer", "int", "long"):
        return 100 + index
    if kind in ("number", "float", "double"):
        return 100.5 + index
    if kind in ("boolean", "bool"):
        return True
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [sample(name, items, index)]
    if kind == "object":
        props = schema.get("properties") or {}
        required = schema.get("required") or []
        return {k: sample(k, props.get(k), index + i) for i, k in enumerate(required) if isinstance(k, str)}
    if fmt == "uuid":
        return f"00000000-0000-4000-8000-{index:012d}"
    if fmt == "date":
        return "2026-01-02"
    if fmt == "date-time":
        return "2026-01-02T03:04:05Z"
    if fmt == "email":
        return f"user{index}@example.com"
    if fmt in ("uri", "url"):
        return f"https://example.com/{index}"
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "value"
    return f"{slug}-{index}"


HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")


@dataclass
class Op:
    """One consumed operation as the YAML declares it."""

    namespace: str
    resource: str
    name: str
    base: str
    res: dict[str, Any]
    op: dict[str, Any]
    auth: Any

    @property
    def entry(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        return self.base, self.res, self.op

    @property
    def full_path(self) -> str:
        return join_path(str(self.res.get("path") or ""), self.op.get("path"))

    @property
    def request(self) -> tuple[str, str, str, str]:
        """What makes two declarations the same upstream request: method, base URI, full path, authentication."""
        return str(self.op.get("method") or "GET").upper(), self.base, self.full_path, repr(self.auth)


def _fold(name: str) -> str:
    """`listTargets`, `list-targets` and `list_targets` are one name."""
    return re.sub(r"[-_]", "", name).casefold()


def _spells(name: str, op: Op) -> bool:
    """`get-volumes` spells the GET of resource `volumes` whose path ends in `/volumes`."""
    verb, _, resource = name.lower().partition("-")
    last = op.full_path.split("#")[0].split("?")[0].rstrip("/").split("/")[-1]
    return (verb in HTTP_VERBS and op.request[0] == verb.upper() and op.resource.lower() == resource
            and last.lower() == resource)


#: Issue 15's readings of a name no operation has, in order; the first that finds any must find one request.
READINGS = (
    ("named so", lambda name, op: op.name == name),
    ("named so in another case or with other separators", lambda name, op: _fold(op.name) == _fold(name)),
    ("spelled as method-resource", _spells),
    ("a bare verb's operation", lambda name, op: "-" not in name and op.name.lower().startswith(name.lower() + "-")),
)


class Consumes:
    """The file's consumed operations, by namespace and name, straight from the YAML."""

    def __init__(self, doc: dict[str, Any], base_dir: Path | None = None) -> None:
        self.ops: list[Op] = []
        self.namespaces: set[str] = set()
        self.ambiguous: dict[str, str] = {}
        cap = doc.get("capability") or {}
        for api in _imported(_list(cap.get("consumes")), base_dir):
            ns = str(api.get("namespace", ""))
            self.namespaces.add(ns)
            base = str(api.get("baseUri") or api.get("baseURI") or "")
            auth = api.get("authentication", api.get("auth"))
            for res in _list(api.get("resources")):
                for op in _list(res.get("operations")):
                    # an operation named by `id` (a dialect the runtime documents) is named so
                    name = str(op["name"] if "name" in op else op.get("id", ""))
                    self.ops.append(Op(ns, str(res.get("name", "")), name, base, res, op, auth))

    def entries(self, target: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        parts = target.split(".")
        if len(parts) < 2:
            return []
        namespace, name = parts[0], ".".join(parts[1:])
        if len(parts) >= 3:
            found = [o for o in self.ops if (o.namespace, o.resource, o.name) == (parts[0], parts[1], ".".join(parts[2:]))]
            if found:
                return [found[0].entry]
        if namespace in self.namespaces:
            found = [o.entry for o in self.ops if (o.namespace, o.name) == (namespace, name)]
            if found or "." in name:
                return found
            return self._read(target, [o for o in self.ops if o.namespace == namespace], name, READINGS[1:])
        return self._guessed(target, namespace, name)

    def _guessed(self, target: str, namespace: str, name: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """An undeclared namespace: the one `-`-separated prefix/suffix variant holding the operation, else the one
        request the file's operations give by the first reading that finds any (issue 15's documented rules)."""
        op = name.split(".")[-1]
        variants = [ns for ns in self.namespaces
                    if ns != namespace and any(a.startswith(b + "-") or a.endswith("-" + b)
                                               for a, b in ((ns, namespace), (namespace, ns)))]
        if len(variants) == 1 and any(o.namespace == variants[0] and _fold(o.name) == _fold(op) for o in self.ops):
            return self.entries(f"{variants[0]}.{name}")
        resource = name.rpartition(".")[0]
        return self._read(target, [o for o in self.ops if not resource or o.resource == resource], op, READINGS)

    def _read(self, target: str, ops: list[Op], name: str, readings: tuple) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        for what, test in readings:
            found = [o for o in ops if test(name, o)]
            requests = {o.request: o for o in reversed(found)}
            if len(requests) == 1:
                return [found[0].entry]
            if requests:
                self.ambiguous[target] = f"{len(requests)} different requests are {what}: " + ", ".join(
                    f"{o.namespace}.{o.name}" for o in requests.values())
                return []
        return []

    def expect(self, target: str, values: dict[str, Any], with_: dict[str, Any], prefixes: tuple[str, ...]) -> ExpectedCall:
        entries = self.entries(target)
        call = ExpectedCall(target)
        if not entries:
            call.problem = f"file defect: call '{target}' names no consumed operation"
            if target in self.ambiguous:
                call.problem += f" ({self.ambiguous[target]})"
            return call
        for base, res, op in entries:
            call.alternatives.append(_expected(base, res, op, values, with_, prefixes))
        return call


def _imported(apis: list[dict[str, Any]], base_dir: Path | None) -> list[dict[str, Any]]:
    """Inline consumes as they are; `{import: ns, location: file}` replaced by that file's namespace."""
    out = []
    for api in apis:
        if "import" in api and isinstance(api.get("location"), str) and base_dir is not None:
            try:
                shared = yaml.safe_load((base_dir / api["location"]).read_text()) or {}
            except (OSError, yaml.YAMLError):
                continue
            for item in _list(shared.get("consumes") or (shared.get("capability") or {}).get("consumes")):
                if item.get("namespace") == api["import"]:
                    out.append({**item, "namespace": api.get("as") or api["import"]})
        else:
            out.append(api)
    return out


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def join_path(resource: str, operation: str | None) -> str:
    """The runtime's documented rule for an operation-level path (as is, or appended to the resource's)."""
    if not isinstance(operation, str):
        return resource
    if operation == resource or operation.startswith(resource.rstrip("/") + "/"):
        return operation
    return resource.rstrip("/") + "/" + operation.lstrip("/") if operation.strip("/") else resource


def _lookup(name: str, values: dict[str, Any]) -> Any:
    if name in values:
        return values[name]
    lowered = {k.lower(): v for k, v in values.items()}
    return lowered.get(name.lower())


def _resolve(name: str, values: dict[str, Any], with_: dict[str, Any], prefixes: tuple[str, ...]) -> Any:
    """The value a placeholder should get: from `with` (a reference, template or literal), else by name."""
    key = name.split(".")[-1]
    if key in with_:
        source = with_[key]
        if isinstance(source, str):
            ref = PLACEHOLDER.fullmatch(source.strip())
            inner = (ref.group(1) or ref.group(2)).strip() if ref else source.strip()
            for prefix in prefixes:
                if inner.startswith(prefix):
                    return _lookup(inner[len(prefix):], values)
            if ref:
                return _lookup(inner.split(".")[-1], values)
            return source if not PLACEHOLDER.search(source) else None
        return source
    return _lookup(key, values)


def _base_path(base: str) -> str:
    """The base URI's path (its origin is what --upstream swaps); templated hosts like `[array]` are not parsed.
    An origin written as one placeholder (`{{env.BASE_URL}}/api/58`) is an origin too."""
    if "://" in base or base.startswith("//"):  # `//host/v1` is scheme-relative; `{scheme}://{host}` an origin too
        return re.sub(r"^(?:(?:[A-Za-z][A-Za-z0-9+.-]*|\{\{[^{}]*\}\}|\{[^{}]*\}):)?//[^/]*", "", base).split("?")[0]
    origin = re.match(r"^(?:\{\{[^{}]*\}\}|\{[^{}]*\})(?=/)", base)
    return base[origin.end():].split("?")[0] if origin else ""


def _expected(base: str, res: dict[str, Any], op: dict[str, Any], values: dict[str, Any], with_: dict[str, Any],
              prefixes: tuple[str, ...]) -> Expected:
    method = str(op.get("method") or "GET").upper()
    base_path = _base_path(base)
    # a Smithy-style `#name&name` is never sent (its names go in the query), nor is a literal query part of the path
    template = join_path(str(res.get("path") or ""), op.get("path")).split("#")[0].split("?")[0]
    # an API version is never written twice: a path repeating a versioned base path is sent with it once
    trimmed = base_path.rstrip("/")
    if (any(re.fullmatch(r"v\d+[\w.]*|\d+(\.\d+)*|\d{4}-\d{2}-\d{2}", seg, re.I) for seg in trimmed.split("/"))
            and (template == trimmed or template.startswith(trimmed + "/"))):
        template = template[len(trimmed):]
    full = base_path.rstrip("/") + "/" + template.lstrip("/") if template.strip("/") else (base_path or "/")
    if not full.startswith("/"):
        full = "/" + full
    regex, shown, last = [], [], 0
    for m in PLACEHOLDER.finditer(full):
        literal = full[last:m.start()]
        regex.append(re.escape(quote(literal, safe="/:@!$&'()*+,;=-._~%")))
        shown.append(literal)
        name = (m.group(1) or m.group(2)).strip()
        value = _resolve(name, values, with_, prefixes)
        if value is None or isinstance(value, (dict, list)):
            regex.append(ANY_VALUE)
            shown.append("{" + name + "}")
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            regex.append(re.escape(quote(text, safe="")) + "|" + re.escape(quote(text, safe="-._~!$&'()*+,;=:@")))
            regex[-1] = "(?:" + regex[-1] + ")"
            shown.append(text)
        last = m.end()
    regex.append(re.escape(quote(full[last:], safe="/:@!$&'()*+,;=-._~%")))
    shown.append(full[last:])
    path_regex = "".join(regex)
    # one slash more or less at the end is the same endpoint for every server we know of
    path_regex = path_regex.rstrip("/") + "/?" if path_regex.endswith("/") else path_regex + "/?"
    return Expected(method, path_regex, "".join(shown))
