"""`naftiko run --workers N`: N processes share each port (SO_REUSEPORT) under one supervisor.

A subprocess test: the process model is what is tested. The ports are held for the whole test
by a bound, never-listening socket with SO_REUSEPORT, which the workers join.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.helpers import SECRET_ENV, OpsUpstream
from tests.support.runtime import BASE_ARGS, poll, request, spawn

WORKERS = re.compile(r"workers count=(\d+) pids=\[([\d, ]+)\]")


@pytest.fixture()
def held_ports() -> Iterator[list[int]]:
    sockets = []
    for _ in range(2):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    yield [s.getsockname()[1] for s in sockets]
    for sock in sockets:
        sock.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) is not serving
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def _start(tmp_path: Path, capability: Path, upstream: OpsUpstream, ports: list[int]):  # type: ignore[no-untyped-def]
    rest, mcp = ports
    runtime = spawn(["run", str(capability), *BASE_ARGS, "--upstream", f"*={upstream.url}",
                     "--rest-port", str(rest), "--mcp-port", str(mcp), "--workers", "2"], tmp_path / "run.log", SECRET_ENV)
    # both workers listening on the same REST port, and the supervisor's list of them
    poll(lambda: runtime.logs().count(f"listening adapter=rest ops address=http://127.0.0.1:{rest}") == 2, timeout=30)
    found = poll(lambda: WORKERS.search(runtime.logs()), timeout=10)
    pids = [int(p) for p in found[2].split(",")]
    assert int(found[1]) == 2 and len(set(pids)) == 2 and runtime.proc.pid not in pids
    return runtime, pids


def test_two_workers_serve_one_port_and_stop_together(tmp_path: Path, capability: Path, upstream: OpsUpstream,
                                                      held_ports: list[int]) -> None:
    runtime, pids = _start(tmp_path, capability, upstream, held_ports)
    try:
        for _ in range(20):  # a new connection each: the kernel spreads them over the workers
            status, _, _ = request("GET", f"http://127.0.0.1:{held_ports[0]}/echo")
            assert status == 200
        assert all(_alive(p) for p in pids)
        runtime.proc.send_signal(signal.SIGTERM)
        assert runtime.proc.wait(timeout=30) == 0
        poll(lambda: not any(_alive(p) for p in pids), timeout=10)
    finally:
        runtime.stop()


def test_port_zero_is_refused_with_workers(tmp_path: Path, capability: Path, upstream: OpsUpstream) -> None:
    log = tmp_path / "run.log"
    with log.open("wb") as handle:
        proc = subprocess.run([sys.executable, "-m", "naftiko_runtime", "run", str(capability), *BASE_ARGS,
                               "--upstream", f"*={upstream.url}", "--workers", "2"],
                              stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **SECRET_ENV}, timeout=60, check=False)
    assert proc.returncode == 1
    assert "--workers 2: every port must be fixed" in log.read_text() and "rest " in log.read_text()


def test_a_worker_that_dies_stops_the_others(tmp_path: Path, capability: Path, upstream: OpsUpstream,
                                             held_ports: list[int]) -> None:
    runtime, pids = _start(tmp_path, capability, upstream, held_ports)
    try:
        os.kill(pids[0], signal.SIGKILL)
        assert runtime.proc.wait(timeout=30) != 0
        poll(lambda: not _alive(pids[1]), timeout=10)
        assert "a worker exited; stopping the others" in runtime.logs()
    finally:
        runtime.stop()
