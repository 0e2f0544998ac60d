"""Issue 19's accelerated arms: the runtime over the pyreqwest upstream client, and the ceiling
reference, a minimal granian (RSGI) + pyreqwest + uvloop proxy (`benchmarks/granian_min.py`), and
between them the runtime's own REST path on that server and client (`benchmarks/granian_rest.py`).

An arm whose package is missing is reported as skipped (`pip install -e '.[fast]' granian uvloop`).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from .arms import REPO, Arm, NaftikoRest, Upstream, free_port, pinned, wait_ok
from .load import RequestSpec


def _missing(*modules: str) -> str | None:
    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    return f"{', '.join(absent)} not installed in this interpreter (pip install -e '.[fast]' granian uvloop)" if absent else None


class NaftikoRestPyreqwest(NaftikoRest):
    name, title = "rest-pyreqwest", "naftiko REST adapter, --http-client pyreqwest"
    extra_args = ("--http-client", "pyreqwest")

    def start(self, directory: Path, upstream: Upstream, cpu: int | None) -> None:
        self.skipped = _missing("pyreqwest")
        if self.skipped is None:
            super().start(directory, upstream, cpu)


class _Granian(Arm):
    """One granian RSGI worker (uvloop, one Rust thread) serving `app`, pinned like the other arms."""

    app = ""

    def env(self, directory: Path, upstream: Upstream) -> dict[str, str]:
        raise NotImplementedError

    def start(self, directory: Path, upstream: Upstream, cpu: int | None) -> None:
        self.skipped = _missing("granian", "pyreqwest", "uvloop")
        if self.skipped is not None:
            return
        port = free_port()
        log = open(directory / f"{self.name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        command = [sys.executable, "-m", "granian", "--interface", "rsgi", "--loop", "uvloop", "--workers", "1",
                   "--runtime-threads", "1", "--no-ws", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                   self.app]
        env = {**os.environ, **self.env(directory, upstream)}
        self.proc = subprocess.Popen(pinned(command, cpu), stdout=log, stderr=log, cwd=REPO, env=env)
        self.base = f"http://127.0.0.1:{port}"
        wait_ok(RequestSpec("GET", self.base + "/small"), self.proc)


class GranianMin(_Granian):
    name, title = "granian-min", "minimal proxy: granian RSGI + pyreqwest + uvloop (the ceiling)"
    app = "benchmarks.granian_min:app"

    def env(self, directory: Path, upstream: Upstream) -> dict[str, str]:
        return {"GRANIAN_MIN_UPSTREAM": upstream.url}


class GranianRest(_Granian):
    name, title = "rest-granian", "naftiko REST path on granian RSGI + pyreqwest + uvloop"
    app = "benchmarks.granian_rest:app"

    def env(self, directory: Path, upstream: Upstream) -> dict[str, str]:
        return {"GRANIAN_REST_FILE": str(directory / "bench-rest.yaml"), "GRANIAN_REST_UPSTREAM": upstream.url}


ARMS: dict[str, type[Arm]] = {a.name: a for a in (NaftikoRestPyreqwest, GranianRest, GranianMin)}
