"""schemathesis against the real engine, bounded: every in-scope operation of both vendor
descriptions, a few generated examples each (explicit examples first), a fixed seed.

Each answer must not be a server error, must use a documented status and content type, and
its body must match the documented schema. The engine serves on loopback port 0 from a thread.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import checks as C
from schemathesis.core.failures import FailureGroup

from .vendor_contract import AUTH, HUMANITEC_DOC, INNGEST_DOC, engine_in_thread, load

CHECKS = [C.not_a_server_error, C.status_code_conformance, C.response_schema_conformance,
          C.content_type_conformance]
EXAMPLES = 4
SEED = 20261130


@pytest.fixture(scope="module")
def engine_url() -> Any:
    with engine_in_thread() as handle:
        yield handle.url


def _schema(name: str) -> Any:
    if name == "humanitec":
        return schemathesis.openapi.from_dict(load(HUMANITEC_DOC)).include(
            tag_regex="^(Pipelines|PipelineRuns|PipelineApprovals|Event)$")
    return schemathesis.openapi.from_dict(load(INNGEST_DOC))


@pytest.mark.parametrize("name", ["humanitec", "inngest"])
def test_no_server_errors_or_undocumented_answers(name: str, engine_url: str) -> None:
    failures: list[str] = []
    operations = 0
    for result in _schema(name).get_all_operations():
        operation = result.ok()
        operations += 1

        @seed(SEED)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(base_url=engine_url, headers=AUTH, timeout=15)
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, FailureGroup) as exc:  # collected (FailureGroup is no Exception)
                failures.append(f"{operation.label}: {str(exc)[:800]}")  # noqa: B023 -- check() runs within this iteration

        check()
    assert operations == {"humanitec": 36, "inngest": 15}[name]
    assert failures == []
