"""Fixtures: `naftiko run` of a shipped file on the local engine, shared by a module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.runtime import Runtime, start

ROOT = Path(__file__).resolve().parents[2]
CAPS = ROOT / "capabilities"
SHIPPED = sorted(CAPS.glob("*.yaml"))


@pytest.fixture(scope="module")
def runtimes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Runtime]]:
    """One runtime per shipped file, started on first use (forced onto the local engine)."""
    started: dict[str, Runtime] = {}
    logs = tmp_path_factory.mktemp("agents-logs")

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, key: str) -> Runtime:
            running = start(CAPS / key, log=logs / f"{key}.log", extra=["--local"])
            started[key] = self[key] = running
            return running

    yield Lazy()
    for running in started.values():
        running.stop()
