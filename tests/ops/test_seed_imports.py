"""Issue 19: the seed command imports only what its file serves; what it leaves out still works when used.

The seed (`naftiko run capabilities/humanitec-pipelineruns.yaml`: REST, MCP, the local engine) runs as a
real subprocess with `PYTHONPROFILEIMPORTTIME=1` (Python's `-X importtime`), which writes one line per
module imported to stderr; the test reads the modules from those lines once the process is ready. Memory
itself is measured by the benchmark (`python -m benchmarks --arms '' --extras seed_rss`), not here.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from naftiko_runtime.cli import main
from naftiko_runtime.cli.app import LAZY_COMMANDS
from tests.support.paths import CAPABILITIES
from tests.support.runtime import BASE_ARGS, spawn

SEED = CAPABILITIES / "humanitec-pipelineruns.yaml"
IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)\s*$", re.M)

# Loaded only where a file or a flag uses them: metrics (a control adapter or --metrics-port), the
# document readers (outputRawFormat html/markdown/xml), WebSockets (MCP over HTTP has none), the OTLP SDK
# (OTEL_EXPORTER_OTLP_ENDPOINT), the CLI's other commands, the compiled schema validator (`naftiko run` checks with python-jsonschema
# unless NAFTIKO_SCHEMA_BACKEND says otherwise).
NOT_FOR_THE_SEED = (
    "prometheus_client", "naftiko_runtime.metrics", "naftiko_runtime.exposes.control",
    "wsproto", "websockets", "markdown_it", "selectolax", "opentelemetry.sdk",
    "jsonschema_rs", "naftiko_runtime.capability.schema_rs", "xml.etree.ElementTree", "pyexpat",
    "naftiko_runtime.cli.export_cmd", "naftiko_runtime.cli.inspect_cmd", "naftiko_runtime.cli.validate_cmd",
    "naftiko_runtime.engine.cli",
)


def _imported(log: str) -> set[str]:
    return set(IMPORTED.findall(log))


def test_seed_command_imports_only_what_it_serves(tmp_path: Path) -> None:
    running = spawn(["run", str(SEED), *BASE_ARGS], tmp_path / "seed.log", {"PYTHONPROFILEIMPORTTIME": "1"})
    try:
        modules = _imported(running.logs())
    finally:
        running.stop()
    # what it serves is there (so the reading of the import lines is right) ...
    assert {"aiohttp", "mcp", "uvicorn", "naftiko_runtime.engine.app", "naftiko_runtime.runtime.run"} <= modules
    # ... and nothing it does not use
    assert sorted(m for m in modules if m in NOT_FOR_THE_SEED or m.split(".")[0] in NOT_FOR_THE_SEED) == []


def test_metrics_still_served_from_a_fresh_process(tmp_path: Path) -> None:
    """`--metrics-port` imports the metrics where it is served: a fresh process answers /metrics."""
    running = spawn(["run", str(SEED), *BASE_ARGS, "--metrics-port", "0"], tmp_path / "metrics.log")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{running.ports['metrics']}/metrics", timeout=10) as response:
            status, text = response.status, response.read().decode()
    finally:
        running.stop()
    assert status == 200
    assert "naftiko_requests_in_flight" in text


def test_every_command_loads_on_use() -> None:
    """The CLI's commands are imported when used (`LAZY_COMMANDS`): each one is listed and answers --help."""
    runner = CliRunner()
    listed = runner.invoke(main, ["--help"])
    assert listed.exit_code == 0
    for name in LAZY_COMMANDS:
        assert f"  {name} " in listed.output
        shown = runner.invoke(main, [name, "--help"])
        assert shown.exit_code == 0, shown.output
        assert f"Usage: main {name} " in shown.output or f"Usage: naftiko {name} " in shown.output
