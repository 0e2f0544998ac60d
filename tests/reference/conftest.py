"""A recording upstream per test for the reference-fixture tests."""

from __future__ import annotations

from typing import Any

#: Capability fixtures under src/test/resources of naftiko/framework v1.0.0-alpha2 (29 used by its JUnit tests,
#: plus register.capability.yml); issue 15 counted 34 behaviours. One test here per fixture.
FIXTURE_COUNT = 30


#: Node ids of the tests marked `deviation`: they assert the runtime's documented behaviour where it deliberately
#: differs from the reference (README, "Reference engine differences"), each marker naming why.
DEVIATIONS: set[str] = set()


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "deviation(reason): a documented deliberate difference from the reference engine")


def pytest_collection_modifyitems(items: list[Any]) -> None:
    DEVIATIONS.update(item.nodeid for item in items if item.get_closest_marker("deviation") is not None)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """'N of 30 behave as asserted (M by documented deviation)': the reference-fixture tests that passed."""
    passed = [r for r in terminalreporter.stats.get("passed", []) if r.nodeid.startswith("tests/reference/")]
    missing = [r for r in terminalreporter.stats.get("xfailed", []) if r.nodeid.startswith("tests/reference/")]
    if passed or missing:
        deviating = sum(r.nodeid in DEVIATIONS for r in passed)
        line = f"reference fixtures: {len(passed)} of {FIXTURE_COUNT} behave as asserted ({deviating} by documented deviation"
        line += f"; {len(missing)} known not to, each xfail naming what is missing)" if missing else ")"
        terminalreporter.write_line(line)
