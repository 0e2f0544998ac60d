"""Fixtures every test folder shares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.recording_upstream import RecordingUpstream


@pytest.fixture
async def upstream() -> AsyncIterator[RecordingUpstream]:
    """A recording HTTP upstream on a loopback port 0, stopped after the test."""
    server = await RecordingUpstream().start()
    try:
        yield server
    finally:
        await server.stop()
