"""Fixtures every test folder shares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.recording_upstream import RecordingUpstream

HTTP_CLIENTS = ("aiohttp", "pyreqwest")


@pytest.fixture
def http_client() -> str:
    """The upstream HTTP client the invoker fixtures use: aiohttp. A module that tests the wire
    overrides it with a fixture of the same name over `HTTP_CLIENTS`, so its tests run on both."""
    return "aiohttp"


@pytest.fixture
async def upstream() -> AsyncIterator[RecordingUpstream]:
    """A recording HTTP upstream on a loopback port 0, stopped after the test."""
    server = await RecordingUpstream().start()
    try:
        yield server
    finally:
        await server.stop()
