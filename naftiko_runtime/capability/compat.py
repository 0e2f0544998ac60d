"""Dialects of published capability files that the runtime serves with a warning.

The schema check reports these as violations of alpha2; each has one unambiguous
meaning, so a rule here gives the issue its deviation code (the `dialect` rows of
:mod:`.deviations`, which say what the runtime does). Rules read the issue's path,
keyword, fields and owner, never its message. Every code has a matching behaviour in
`normalize/` or `invoke/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .hint_aliases import ALIASES
from .schema_issue import SchemaIssue


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _in(path: tuple[str | int, ...], *keys: str) -> bool:
    return all(k in path for k in keys)


_Rule = Callable[[SchemaIssue, Any], "str | None"]


def _base_uri(issue: SchemaIssue, data: Any) -> str | None:
    if issue.path and issue.path[-1] == "baseUri":
        value = _at(data, issue.path)
        if isinstance(value, str) and value == "":
            return "baseuri-empty"
        if isinstance(value, str) and "{" in value and re.match(r"^(https?://|\{)", value):
            return "baseuri-placeholder"
        if isinstance(value, str) and re.match(r"^//[^/{}\s]+", value):
            return "baseuri-scheme-relative"
        if isinstance(value, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value) and not re.match(r"^https?://", value):
            return "baseuri-not-http"
    return None


def _auth(issue: SchemaIssue, data: Any) -> str | None:
    if (issue.path and issue.path[-1] in ("auth",)) or (_unknown(issue, "consumed API") and issue.fields == ("auth",)):
        return "auth-alias"
    idx = next((i for i, p in enumerate(issue.path) if p in ("authentication", "auth")), None)
    if idx is None:
        return None
    auth = _at(data, issue.path[: idx + 1])
    if not isinstance(auth, dict):
        return None
    kind = auth.get("type")
    if kind == "apikey" and (set(auth) - {"type", "key", "value", "placement"}) <= {"in", "name", "headers"}:
        return "apikey-dialect"
    if kind == "bearer" and "token" not in auth and set(auth) - {"type"} <= {"value", "placement"} and "value" in auth:
        return "auth-other-scheme-fields"
    if (kind == "apikey" and "value" not in auth and set(auth) <= {"type", "key", "header", "query"}
            and sum(isinstance(auth.get(w), str) for w in ("header", "query")) == 1 and isinstance(auth.get("key"), str)):
        return "auth-other-scheme-fields"
    if kind == "query" and isinstance(auth.get("parameters"), list) and set(auth) <= {"type", "parameters"}:
        return "auth-query-parameters"
    if isinstance(kind, str) and kind not in AUTH_TYPES:
        return "auth-type-alias" if auth_alias(kind) else "auth-unsupported"
    return None


#: Real schemes published files use that this runtime cannot compute (request signing).
UNSUPPORTED_AUTH = ("oauth1", "hmac", "aws-sig-v4", "aws-sigv4")
AUTH_TYPES = ("bearer", "apikey", "basic", "digest", "oauth2")


def auth_alias(kind: str) -> str | None:
    """The authentication type `kind` clearly means, written in another case or with separators
    (`Bearer`, `api_key`, `API-Key`); None when it means none of them."""
    folded = re.sub(r"[\s_-]", "", kind).lower()
    return folded if folded in AUTH_TYPES and folded != kind else None


def _body(issue: SchemaIssue, data: Any) -> str | None:
    if "body" in issue.path:
        idx = issue.path.index("body")
        body = _at(data, issue.path[: idx + 1])
        if isinstance(body, dict) and body.get("type") in ("form", "multipart"):
            return "body-type-alias"
        if isinstance(body, dict) and isinstance(body.get("type"), str) and body["type"] not in BODY_TYPES:
            return "body-type-unknown"
    return None


BODY_TYPES = ("json", "text", "xml", "sparql", "formUrlEncoded", "multipartForm")


def _output_format(issue: SchemaIssue, data: Any) -> str | None:
    if issue.path and issue.path[-1] == "outputRawFormat" and isinstance(_at(data, issue.path), str):
        return "output-format-unknown"
    return None


def _method(issue: SchemaIssue, data: Any) -> str | None:
    if issue.path and issue.path[-1] == "method" and _at(data, issue.path) == "HEAD":
        return "method-head"
    return None


def _binds(issue: SchemaIssue, data: Any) -> str | None:
    if (issue.path and issue.path[0] == "binds") or _in(issue.path, "binds"):
        if issue.keyword == "minItems" and issue.path[-1] == "binds":
            return "empty-binds"
        key = issue.path[-1] if issue.path else None
        if isinstance(key, str) and re.fullmatch(r"[0-9][A-Z0-9_]*", key):
            return "bind-key-digit"
    return None


#: Fields that only describe an output (the runtime maps nothing by them).
OUTPUT_DESCRIPTIVE = frozenset({"name", "description", "label", "title", "example", "examples", "format", "required"})


def _outputs(issue: SchemaIssue, data: Any) -> str | None:
    if _required(issue, "items", "array output"):
        return "array-output-without-items"
    if "outputParameters" in issue.path and issue.path[-1] == "type" and _at(data, issue.path) == "integer":
        return "output-type-integer"
    if (issue.keyword == "additionalProperties" and (issue.owner or "").endswith("output") and issue.fields
            and set(issue.fields) <= OUTPUT_DESCRIPTIVE):
        return "output-descriptive-fields"
    if _unknown(issue, "exposed REST operation") and issue.fields == ("hints",):
        return "rest-operation-hints"
    return None


def _unknown(issue: SchemaIssue, owner: str) -> bool:
    """An unknown-field issue in an object whose definition's title contains `owner`."""
    return issue.keyword == "additionalProperties" and owner in (issue.owner or "")


def _required(issue: SchemaIssue, name: str, owner: str) -> bool:
    """A missing required `name` in an object whose definition's title starts with `owner`."""
    return issue.keyword == "required" and issue.fields == (name,) and (issue.owner or "").startswith(owner)


def _operation_fields(issue: SchemaIssue, data: Any) -> str | None:
    operation = (issue.owner or "").startswith(("consumed operation", "exposed REST operation"))
    if issue.keyword == "additionalProperties" and operation and issue.fields and set(issue.fields) <= {"path", "id"}:
        return "operation-id-alias" if "id" in issue.fields else "operation-path"
    if _required(issue, "name", "consumed operation"):
        op = _at(data, issue.path)
        if isinstance(op, dict) and isinstance(op.get("id"), str):
            return "operation-id-alias"
    if _unknown(issue, "exposed input parameter") and issue.fields == ("required",):
        return "exposed-param-required"
    if _unknown(issue, "consumed input parameter") and issue.fields == ("properties",):
        return "consumed-param-extra-fields"
    if _required(issue, "data", "JSON request body"):
        return "body-json-passthrough"
    return None


def _parameters(issue: SchemaIssue, data: Any) -> str | None:
    """Parameter fields the runtime can do without: an exposed input's `type` (a string by default), any extra field."""
    if _required(issue, "type", "exposed input parameter") or _required(issue, "type", "tool argument"):
        return "exposed-param-no-type"
    if issue.keyword == "additionalProperties" and any(w in (issue.owner or "") for w in ("parameter", "argument")):
        return "param-unknown-field"
    return None


def _port(issue: SchemaIssue, data: Any) -> str | None:
    if issue.keyword == "required" and issue.fields == ("port",) and (issue.owner or "").endswith("adapter"):
        return "adapter-port-missing"
    return None


def _call(issue: SchemaIssue, data: Any) -> str | None:
    if issue.path and issue.path[-1] in ("call",):
        value = _at(data, issue.path)
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", value):
            return "three-part-call"
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", value):
            return "identifier-underscore"
    if (issue.path and issue.path[-1] == "namespace" and "consumes" in issue.path
            and isinstance(_at(data, issue.path), str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", _at(data, issue.path))):
        return "identifier-underscore"
    return None


def _resource_path(issue: SchemaIssue, data: Any) -> str | None:
    """A consumed resource without `path` whose every operation gives its own: those paths are the whole story."""
    if _required(issue, "path", "consumed resource"):
        ops = (_at(data, issue.path) or {}).get("operations") if isinstance(_at(data, issue.path), dict) else None
        if isinstance(ops, list) and ops and all(isinstance(op, dict) and isinstance(op.get("path"), str) for op in ops):
            return "resource-path-from-operations"
    return None


def _hints(issue: SchemaIssue, data: Any) -> str | None:
    if _unknown(issue, "hints") and issue.fields and set(issue.fields) <= set(ALIASES):
        return "hint-mcp-names"
    return None


def _resource_name(issue: SchemaIssue, data: Any) -> str | None:
    """`name:` left empty on a consumed resource: only a three-part call refers to resource names."""
    path = tuple(issue.path)
    if (len(path) >= 4 and path[-1] == "name" and path[-3] == "resources" and "consumes" in path
            and "operations" not in path and _at(data, path) is None):
        return "resource-name-empty"
    return None


def _operation_name(issue: SchemaIssue, data: Any) -> str | None:
    """An operationId kept as a consumed operation's name (`AIGateway_ChatCompletions`): unique, only not kebab."""
    path = tuple(issue.path)
    value = _at(data, path)
    if (len(path) >= 6 and path[-1] == "name" and path[-3] == "operations" and path[0] in ("capability", "consumes")
            and "consumes" in path and isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value)):
        return "operation-name-chars"
    return None


def _with_structured(issue: SchemaIssue, data: Any) -> str | None:
    """A `with` entry written as a list or mapping (a JSON body parameter's value, maybe with references inside)."""
    path = tuple(issue.path)
    if len(path) >= 2 and path[-2] == "with" and isinstance(_at(data, path), (list, dict)):
        return "with-structured"
    return None


def _version(issue: SchemaIssue, data: Any) -> str | None:
    if tuple(issue.path) == ("naftiko",) and _at(data, issue.path) == "1.0.0-alpha1":
        return "version-previous-alpha"
    return None


RULES: tuple[_Rule, ...] = (_version, _resource_name, _operation_name, _with_structured, _base_uri, _auth, _body, _method, _binds, _outputs, _operation_fields, _call, _parameters, _port,
                            _output_format, _hints, _resource_path)


def reclassify(issue: SchemaIssue, data: Any) -> SchemaIssue:
    """The same issue, with a deviation code when it is one of the tolerated dialects."""
    if issue.deviation:
        return issue
    for rule in RULES:
        code = rule(issue, data)
        if code:
            return replace(issue, deviation=code)
    return issue
