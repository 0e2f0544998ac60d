"""The image tests run last: .ci/run starts the image build before the suite, and the build
script's lock makes these tests wait for it, so a cold build overlaps the other tests."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("image") is not None)  # stable: keeps the rest's order
