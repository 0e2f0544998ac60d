"""A recording upstream per test for the reference-fixture tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ..support.recording_upstream import RecordingUpstream


@pytest.fixture
async def upstream() -> AsyncIterator[RecordingUpstream]:
    recording = await RecordingUpstream().start()
    yield recording
    await recording.stop()
