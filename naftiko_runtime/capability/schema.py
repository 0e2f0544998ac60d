"""JSON Schema check of a Naftiko ``1.0.0-alpha2`` document.

The schema is our own, shipped inside the package as ``naftiko_runtime/schemas/naftiko-1.0.0-alpha2.json``
(the top-level ``schemas/`` copy for editors is kept byte-identical by a test). :func:`check_schema` validates an already
parsed YAML document (plain dicts/lists/scalars) and turns every violation into a :class:`SchemaIssue`
with the instance path and an author-friendly message (worded by :mod:`.schema_messages`).

Two interchangeable backends produce the violations: ``jsonschema-rs`` (compiled, the default; its errors
are adapted by :mod:`.schema_rs`) and ``jsonschema`` (pure Python, six times slower), chosen by the
environment variable ``NAFTIKO_SCHEMA_BACKEND`` (``jsonschema-rs`` or ``jsonschema``) when the schema is first
used. Both give the same issues in the same order; a test compares them on the corpus and the seeds.

Some violations are made by most real published files and are harmless; they carry a stable
``deviation`` code (the table is :mod:`.deviations`). The default validation level reports them as
warnings, ``--strict`` as errors. Everything else has ``deviation=None`` and makes the document invalid.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .schema_issue import SchemaIndex, SchemaIssue, index
from .schema_messages import explain

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

    from .schema_rs import RsChecker

__all__ = ["BACKENDS", "SCHEMA_FILENAME", "SchemaIssue", "check_schema", "load_schema", "prepare", "schema_backend",
           "schema_path", "serving_backend"]

SCHEMA_FILENAME = "naftiko-1.0.0-alpha2.json"
BACKENDS = ("jsonschema-rs", "jsonschema")


# ----------------------------------------------------------------------------------------------- loading


def schema_path() -> Path:
    """Filesystem path of the schema shipped in the package (a real file, so wheels and images carry it)."""
    return Path(str(resources.files("naftiko_runtime").joinpath("schemas", SCHEMA_FILENAME)))


@functools.cache
def load_schema() -> dict[str, Any]:
    """The schema as a dict (loaded once; treat it as read-only)."""
    with open(schema_path(), encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


@functools.cache
def schema_backend() -> str:
    """The backend in use: ``NAFTIKO_SCHEMA_BACKEND``, read once, else jsonschema-rs."""
    chosen = os.environ.get("NAFTIKO_SCHEMA_BACKEND", "").strip() or BACKENDS[0]
    if chosen not in BACKENDS:
        raise ValueError(f"NAFTIKO_SCHEMA_BACKEND={chosen!r}: expected one of {', '.join(BACKENDS)}")
    return chosen


def serving_backend() -> str:
    """The backend `naftiko run` checks its files with: ``NAFTIKO_SCHEMA_BACKEND`` when set, else python-jsonschema.

    A server checks a few files at start (and on a reload) and then serves for hours: the compiled
    validator would stay resident for that one check (its code and compiled schema, ~9 MB of the seed
    command's RSS, issue 19), while python-jsonschema is loaded by the MCP adapter anyway and gives the
    same diagnostics. `naftiko validate`, which checks thousands of files, keeps jsonschema-rs.
    """
    return schema_backend() if os.environ.get("NAFTIKO_SCHEMA_BACKEND", "").strip() else BACKENDS[1]


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    # No format checker: `format` stays an annotation, as alpha2 intends.
    return Draft202012Validator(load_schema())


@functools.cache
def _rs_checker() -> RsChecker:
    from .schema_rs import RsChecker

    return RsChecker(load_schema())


@functools.cache
def _index() -> SchemaIndex:
    return index(load_schema())


# ----------------------------------------------------------------------------------------------- public API


def prepare() -> None:
    """Compile the schema for the backend in use now (e.g. before forking workers that all need it)."""
    _validator() if schema_backend() == "jsonschema" else _rs_checker()
    _index()


def check_schema(document: Any, *, backend: str | None = None) -> list[SchemaIssue]:
    """Validate a parsed document against the alpha2 schema; return one issue per violation (empty if valid).

    `backend` overrides :func:`schema_backend` (the tests compare the two).
    """
    backend = backend or schema_backend()
    errors: Iterable[Any]
    if backend == "jsonschema":
        errors = _validator().iter_errors(document)
    else:
        try:
            errors = _rs_checker().iter_errors(document)
        except ValueError:  # values JSON cannot hold (dates, bytes, non-string keys: not from our YAML reader)
            errors = _validator().iter_errors(document)
    issues: list[SchemaIssue] = []
    seen: set[SchemaIssue] = set()
    for error in errors:
        for issue in explain(error, _index()):
            if issue not in seen:
                seen.add(issue)
                issues.append(issue)
    return issues
