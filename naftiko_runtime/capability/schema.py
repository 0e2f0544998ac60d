"""JSON Schema check of a Naftiko ``1.0.0-alpha2`` document.

The schema is our own, shipped inside the package as ``naftiko_runtime/schemas/naftiko-1.0.0-alpha2.json``
(the top-level ``schemas/`` copy for editors is kept byte-identical by a test). :func:`check_schema` validates an already
parsed YAML document (plain dicts/lists/scalars) and turns every violation into a :class:`SchemaIssue`
with the instance path and an author-friendly message (worded by :mod:`.schema_messages`).

Some violations are made by most real published files and are harmless; they carry a stable
``deviation`` code (the table is :mod:`.deviations`). The default validation level reports them as
warnings, ``--strict`` as errors. Everything else has ``deviation=None`` and makes the document invalid.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .schema_issue import SchemaIndex, SchemaIssue, index
from .schema_messages import explain

__all__ = ["SCHEMA_FILENAME", "SchemaIssue", "check_schema", "load_schema", "schema_path"]

SCHEMA_FILENAME = "naftiko-1.0.0-alpha2.json"


# ----------------------------------------------------------------------------------------------- loading


def schema_path() -> Path:
    """Filesystem path of the schema shipped in the package (a real file, so wheels and images carry it)."""
    return Path(str(resources.files("naftiko_runtime").joinpath("schemas", SCHEMA_FILENAME)))


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
def _index() -> SchemaIndex:
    return index(load_schema())


# ----------------------------------------------------------------------------------------------- public API


def check_schema(document: Any) -> list[SchemaIssue]:
    """Validate a parsed document against the alpha2 schema; return one issue per violation (empty if valid)."""
    issues: list[SchemaIssue] = []
    seen: set[SchemaIssue] = set()
    for error in _validator().iter_errors(document):
        for issue in explain(error, _index()):
            if issue not in seen:
                seen.add(issue)
                issues.append(issue)
    return issues
