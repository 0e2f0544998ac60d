"""One table of deviations drives both validation levels and the wording of what the runtime does."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.capability.deviations import DEVIATIONS
from naftiko_runtime.capability.loader import load
from tests.support.paths import SEEDED


@pytest.mark.parametrize("path", SEEDED[:3], ids=lambda p: p.name)
def test_each_level_takes_its_severity_from_the_table(path: Path) -> None:
    default, strict = load(path), load(path, strict=True)
    tolerated = [d for d in default.warnings if d.code in DEVIATIONS]
    assert tolerated, "seed files carry deviations"
    for d in tolerated:
        row = DEVIATIONS[d.code]
        assert row.default == "warning"
        if row.seen_by != "normalise":
            assert d.message.endswith(f"(tolerated: {row.runtime})"), d.message
    strict_codes = {(d.line, d.col, d.code) for d in strict.errors}
    for d in tolerated:
        assert (d.line, d.col, d.code) in strict_codes, str(d)
    assert not [d for d in strict.warnings if d.code in DEVIATIONS]


def test_an_unknown_field_points_at_its_key(tmp_path: Path) -> None:
    path = tmp_path / "cap.yaml"
    path.write_text(
        "naftiko: 1.0.0-alpha2\n"
        "info:\n  label: X\n  description: Y\n"
        "capability:\n"
        "  consumes:\n"
        "  - type: http\n    namespace: up\n    baseUri: https://api.example.com\n"
        "    resources:\n    - name: r\n      path: /r\n      operations:\n"
        "      - name: get\n        method: GET\n        colour: blue\n"
        "  exposes:\n  - type: mcp\n    namespace: t\n    port: 9191\n    tools:\n"
        "    - name: get\n      description: Get.\n      call: up.get\n"
    )
    (error,) = [d for d in load(path).errors if "colour" in d.message]
    assert (error.line, error.col) == (16, 9)  # the `colour` key, not the operation
