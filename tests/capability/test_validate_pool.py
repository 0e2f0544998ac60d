"""`naftiko validate` over many files in worker processes prints exactly what one process prints, in the
same order, with the same exit status; and the schema backends print the same (text, json, --strict)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import CORPUS, SHIPPED

ROOT = Path(__file__).resolve().parents[2]
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not available")


def _validate(*args: str, backend: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NAFTIKO_SCHEMA_BACKEND": backend}
    return subprocess.run([sys.executable, "-m", "naftiko_runtime", "validate", *args], capture_output=True, text=True,
                          check=False, cwd=ROOT, env=env, timeout=600)


@needs_corpus
def test_workers_print_what_one_process_prints(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("naftiko: 1.0.0-alpha2\ncapability: [\n")
    files = [str(f) for f in sorted(CORPUS.rglob("*.yaml"))[:60]] + [str(broken)] + [str(f) for f in SHIPPED]
    for fmt in ("text", "json"):
        serial = _validate("--jobs", "1", "--format", fmt, *files)
        pooled = _validate("--jobs", "3", "--format", fmt, *files)
        assert serial.returncode == pooled.returncode == 1  # the broken file
        assert serial.stdout == pooled.stdout
        assert serial.stderr == pooled.stderr
        assert "broken.yaml" in serial.stdout + serial.stderr


@needs_corpus
def test_both_backends_print_the_same(tmp_path: Path) -> None:
    files = [str(f) for f in sorted(CORPUS.rglob("*.yaml"))[::5]]
    for args in (["--format", "json"], ["--strict"], []):
        fast = _validate("--jobs", "1", *args, *files, backend="jsonschema-rs")
        slow = _validate("--jobs", "1", *args, *files, backend="jsonschema")
        assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr), args


def test_validate_restores_the_collector_for_in_process_callers() -> None:
    import gc

    from click.testing import CliRunner

    from naftiko_runtime.cli import main

    before = (gc.get_threshold(), gc.get_freeze_count())
    result = CliRunner().invoke(main, ["validate", "--jobs", "1", *(str(f) for f in SHIPPED)])
    assert result.exit_code == 0, result.output
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
