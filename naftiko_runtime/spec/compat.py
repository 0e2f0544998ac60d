"""Dialects of published capability files that the runtime serves with a warning.

The schema check reports these as violations of alpha2; each has one unambiguous
meaning, so the default validation level accepts it and says what the runtime does
(`--strict` keeps them errors). Every entry here has a matching behaviour in
`normalize.py` or `invoke/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .hint_aliases import only_aliases
from .schema import SchemaIssue

#: code -> what the runtime does with it.
TOLERATED: dict[str, str] = {
    "baseuri-placeholder": "the placeholders are filled per call from binds, then the environment, then the call's values",
    "baseuri-empty": "calls answer 502 until `--upstream NAMESPACE=URL` names the upstream",
    "auth-alias": "'auth' is read as 'authentication'",
    "apikey-dialect": "API-key authentication written OpenAPI-style ('in'/'name') or as a 'headers' map is sent as such",
    "auth-query-parameters": "each of the 'parameters' is added to the query string of every call",
    "body-type-alias": "'form' is read as formUrlEncoded, 'multipart' as multipartForm",
    "method-head": "HEAD is sent as HEAD",
    "bind-key-digit": "the key is read from the environment or file under that exact name",
    "empty-binds": "an empty 'binds' list is ignored",
    "array-output-without-items": "the array's elements pass through unchanged",
    "operation-path": "the operation's own path is used: as is when it starts with the resource path, else appended to it",
    "operation-id-alias": "an operation's 'id' is read as its 'name'",
    "body-json-passthrough": "a JSON body without 'data' sends the caller's JSON body (REST) or 'body' argument (MCP)",
    "auth-unsupported": "calls are sent without credentials (the upstream will likely answer 401)",
    "exposed-param-required": "'required' on an exposed input parameter is honoured",
    "three-part-call": "'namespace.resource.operation' names the resource explicitly (a runtime extension)",
    "hint-mcp-names": "MCP's hint names are read as the alpha2 ones (readOnlyHint as readOnly, destructiveHint as destructive, …)",
}


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
        if isinstance(value, str) and "{" in value and re.match(r"^(https?://|\{\{)", value):
            return "baseuri-placeholder"
    return None


def _auth(issue: SchemaIssue, data: Any) -> str | None:
    msg = issue.message
    if issue.path and issue.path[-1] in ("auth",) or ("unknown field 'auth'" in msg and "consumed API" in msg):
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
    if kind == "query" and isinstance(auth.get("parameters"), list) and set(auth) <= {"type", "parameters"}:
        return "auth-query-parameters"
    if isinstance(kind, str) and kind in UNSUPPORTED_AUTH:
        return "auth-unsupported"
    return None


#: Real schemes published files use that this runtime cannot compute (request signing).
UNSUPPORTED_AUTH = ("oauth1", "hmac", "aws-sig-v4", "aws-sigv4")


def _body(issue: SchemaIssue, data: Any) -> str | None:
    if "body" in issue.path:
        idx = issue.path.index("body")
        body = _at(data, issue.path[: idx + 1])
        if isinstance(body, dict) and body.get("type") in ("form", "multipart"):
            return "body-type-alias"
    return None


def _method(issue: SchemaIssue, data: Any) -> str | None:
    if issue.path and issue.path[-1] == "method" and _at(data, issue.path) == "HEAD":
        return "method-head"
    return None


def _binds(issue: SchemaIssue, data: Any) -> str | None:
    if issue.path and issue.path[0] == "binds" or _in(issue.path, "binds"):
        if issue.message.startswith("'binds' must not be empty"):
            return "empty-binds"
        key = issue.path[-1] if issue.path else None
        if isinstance(key, str) and re.fullmatch(r"[0-9][A-Z0-9_]*", key):
            return "bind-key-digit"
    return None


def _outputs(issue: SchemaIssue, data: Any) -> str | None:
    if issue.message.startswith("'items' is required for an array output"):
        return "array-output-without-items"
    return None


_UNKNOWN = re.compile(r"^unknown fields? ((?:'[^']+'(?:, )?)+) in (?:a|an) (?:consumed|exposed REST) operation")


def _operation_fields(issue: SchemaIssue, data: Any) -> str | None:
    match = _UNKNOWN.match(issue.message)
    if match:
        fields = set(re.findall(r"'([^']+)'", match.group(1)))
        if fields <= {"path", "id"}:
            return "operation-id-alias" if "id" in fields else "operation-path"
    if issue.message.startswith("'name' is required for a consumed operation"):
        op = _at(data, issue.path)
        if isinstance(op, dict) and isinstance(op.get("id"), str):
            return "operation-id-alias"
    if issue.message == "unknown field 'required' in an exposed input parameter" or (
        issue.message.startswith("unknown field 'required' in an exposed input parameter (")
    ):
        return "exposed-param-required"
    if issue.message.startswith("unknown field 'properties' in a consumed input parameter"):
        return "consumed-param-extra-fields"
    if issue.message.startswith("'data' is required for a JSON request body"):
        return "body-json-passthrough"
    return None


def _call(issue: SchemaIssue, data: Any) -> str | None:
    if issue.path and issue.path[-1] in ("call",):
        value = _at(data, issue.path)
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", value):
            return "three-part-call"
    return None


def _hints(issue: SchemaIssue, data: Any) -> str | None:
    return "hint-mcp-names" if only_aliases(issue.message) else None


RULES: tuple[_Rule, ...] = (_base_uri, _auth, _body, _method, _binds, _outputs, _operation_fields, _call, _hints)


def reclassify(issue: SchemaIssue, data: Any) -> SchemaIssue:
    """The same issue, with a deviation code when it is one of the tolerated dialects."""
    if issue.deviation:
        return issue
    for rule in RULES:
        code = rule(issue, data)
        if code:
            return replace(issue, deviation=code)
    return issue
