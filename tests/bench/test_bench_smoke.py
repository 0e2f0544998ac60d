"""The benchmark harness still runs: `--quick`, cheap arms only (direct, REST over each upstream client, aiohttp stub,
the Python load generator), so neither nginx nor wrk is needed. No figure is asserted:
performance is measured by `python -m benchmarks`, never by a timed test."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.__main__ import main


def test_quick_bench_runs_and_writes_json(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bench-results.json"
    results = main([
        "--quick", "--arms", "direct,rest,rest-pyreqwest", "--workloads", "get1k", "--upstream", "aiohttp",
        "--load", "python", "--no-extras", "--rates", "50", "--out", str(out),
    ])
    assert results["upstream"] == "aiohttp stub"
    for arm in ("direct", "rest", "rest-pyreqwest"):
        figures = results["arms"][arm]["workloads"]["get1k"]
        assert "error" not in figures, figures
        assert figures["closed"]["rps"]["median"] > 0
        assert figures["fixed"][0]["requests"] > 0
    assert results["arms"]["rest"]["peak_rss_mb"] > 0
    assert json.loads(out.read_text())["arms"].keys() == {"direct", "rest", "rest-pyreqwest"}
    assert "| GET, 1 KB answer | rest |" in capsys.readouterr().out
