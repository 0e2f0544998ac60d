"""Fixtures: a recording upstream on a loopback port, and invokers pointed at it."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from naftiko_runtime.binding.binds import resolve_capability_binds
from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import Capability
from naftiko_runtime.invoke.client import UpstreamPool, UpstreamSettings
from naftiko_runtime.invoke.invoker import Invoker

from ..support.recording_upstream import RecordingUpstream

REPO = Path(__file__).resolve().parents[2]
CAPABILITIES = REPO / "capabilities"
SEEDED_DIR = REPO / "tests" / "support" / "seeded"  # the seed-generated files (seed deviations, reference failures)

# Tests must never wait long on a backoff: jitter is kept, the base is tiny.
FAST = UpstreamSettings(connect_timeout=2.0, total_timeout=5.0, retries=2, backoff=0.001)


def load_capability(path: Path | str) -> Capability:
    """Load a file; the shipped files are loaded once per session (invocation never mutates the model)."""
    if Path(path).parent in (CAPABILITIES, SEEDED_DIR):
        return _load_shipped(str(path))
    return _load(path)


@functools.cache
def _load_shipped(path: str) -> Capability:
    return _load(path)


def _load(path: Path | str) -> Capability:
    result = load(path)
    assert result.ok, [str(d) for d in result.errors]
    assert result.capability is not None
    return result.capability


InvokerFactory = Callable[..., Invoker]


@pytest.fixture
async def make_invoker(upstream: RecordingUpstream, http_client: str) -> AsyncIterator[InvokerFactory]:
    """`make_invoker(cap, env={...}, settings=..., base=...)`: an Invoker whose every namespace goes to `base` (the upstream),
    over the `http_client` fixture's client."""
    pools: list[UpstreamPool] = []

    def factory(
        cap: Capability,
        env: dict[str, str] | None = None,
        settings: UpstreamSettings | None = None,
        base: str | None = None,
    ) -> Invoker:
        pool = UpstreamPool(dataclasses.replace(settings or FAST, client=http_client))
        pools.append(pool)
        binds = resolve_capability_binds(cap, env or {})
        return Invoker(cap, binds, pool, {"*": base or upstream.url})

    yield factory
    for pool in pools:
        await pool.close()


@pytest.fixture
def write_capability(tmp_path: Path) -> Callable[[str], Capability]:
    """Write YAML text to a file and load it (the loader reads real files)."""
    counter = iter(range(1000))

    def write(text: str) -> Capability:
        path = tmp_path / f"cap-{next(counter)}.yaml"
        path.write_text(text, encoding="utf-8")
        return load_capability(path)

    return write
