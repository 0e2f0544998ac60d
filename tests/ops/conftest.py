from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.helpers import CAPABILITY, SECRET_ENV, OpsUpstream
from tests.support.runtime import Running, start


@pytest.fixture()
def upstream() -> Iterator[OpsUpstream]:
    with OpsUpstream() as up:
        yield up


@pytest.fixture()
def capability(tmp_path: Path) -> Path:
    file = tmp_path / "ops.yaml"
    file.write_text(CAPABILITY)
    return file


@pytest.fixture()
def ops(tmp_path: Path, capability: Path, upstream: OpsUpstream, http_client: str) -> Iterator[Running]:
    """The ops capability (in process) against the test upstream, JSON logs, metrics on their own port,
    upstream calls over the `http_client` fixture's client."""
    runtime = start(
        capability, log=tmp_path / "run.log", env=SECRET_ENV,
        extra=["--upstream", f"*={upstream.url}", "--log-format", "json", "--metrics-port", "0", "--http-client", http_client],
    )
    yield runtime
    runtime.stop()


@pytest.fixture()
def metrics_port(ops: Running) -> int:
    return ops.port("metrics")
