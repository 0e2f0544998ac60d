"""What the schema check reports (:class:`SchemaIssue`) and the index of the schema's definitions and
titles that its messages are worded from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SchemaIssue:
    """One schema violation.

    ``path`` is the instance path from the document root (mapping keys and list indexes), e.g.
    ``("capability", "exposes", 0, "resources", 2)``; ``deviation`` is a :mod:`.deviations` code when the
    violation is a tolerated real-world deviation, else ``None``. ``keyword`` (the JSON Schema keyword
    violated), ``fields`` (the missing or unknown field names) and ``owner`` (the title of the object's
    definition) say the same as the message, as data.
    """

    path: tuple[str | int, ...]
    message: str
    deviation: str | None = None
    keyword: str = field(default="", compare=False)
    fields: tuple[str, ...] = field(default=(), compare=False)
    owner: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SchemaIndex:
    """For one loaded schema: id(subschema) → its $defs name, and id(subschema) → a title for messages."""

    def_of: dict[int, str]
    title_of: dict[int, str]


def index(schema: dict[str, Any]) -> SchemaIndex:
    """Index a loaded schema's definitions and titles (by object identity, so keep `schema` alive)."""
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
        title: str | None
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
    return SchemaIndex(def_of, title_of)
