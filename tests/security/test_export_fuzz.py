"""schemathesis against each shipped capability's REST adapter, bounded, on the document
`naftiko export openapi` produces for it (`build_openapi`).

Each file runs in process (`naftiko run --local`, every port 0, an in-memory engine); every
operation of its exported document gets a few generated requests (explicit examples first, a
fixed seed). No answer may be a server error the document does not declare, and every answer's
status, content type and body must be the ones the document describes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import checks as C
from schemathesis.core.failures import FailureGroup

from naftiko_runtime.capability.loader import load
from naftiko_runtime.exposes.rest.openapi import build_openapi
from tests.support.paths import SHIPPED
from tests.support.runtime import start

CHECKS = [C.not_a_server_error, C.status_code_conformance, C.response_schema_conformance,
          C.content_type_conformance]
EXAMPLES = 5
SEED = 20261130


def _document(path: Path) -> dict[str, Any]:
    result = load(path)
    assert result.ok and result.capability is not None, [str(d) for d in result.errors]
    return build_openapi(result.capability)


def _fuzz(operation: Any, base_url: str, statuses: list[int], failures: list[str]) -> None:
    """A few requests to one operation; every answer's status kept, every violation collected."""

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        response = case.call(base_url=base_url, timeout=15)
        statuses.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:  # collected: one report of every failing operation
            failures.append(f"{operation.label}: {str(exc)[:600]}")

    check()


@pytest.fixture(params=SHIPPED, ids=lambda p: p.stem)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Path, str]]:
    runtime = start(request.param, extra=["--local"], clean=True)
    try:
        yield request.param, runtime.rest
    finally:
        runtime.stop()


def test_exported_document_describes_what_is_served(served: tuple[Path, str]) -> None:
    path, base_url = served
    document = _document(path)
    failures: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schemathesis.openapi.from_dict(document).get_all_operations():
        operations += 1
        _fuzz(result.ok(), base_url, statuses, failures)
    assert operations > 0
    assert any(200 <= s < 300 for s in statuses), "some requests must get through to the engine"
    assert failures == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_operation_declares_the_upstream_failures(path: Path) -> None:
    """Any upstream can fail: 502, 503 and 504 are declared, with the Error body, on every operation."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in _document(path)["paths"].values():
        for method, operation in item.items():
            for code in ("400", "502", "503", "504"):
                assert operation["responses"][code]["content"] == error, (method, operation["operationId"], code)
