"""`--watch` swaps edited files in without a restart; a broken edit keeps the last good version; SIGTERM drains."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

from tests.ops.helpers import CAPABILITY, SECRET_ENV, OpsUpstream, mcp_call
from tests.support.runtime import poll, request, start, start_process


def _edit(file: Path, text: str) -> None:
    file.write_text(text)


def test_watch_edit_takes_effect_and_a_broken_edit_does_not_take_the_server_down(
    tmp_path: Path, capability: Path, upstream: OpsUpstream
) -> None:
    runtime = start(capability, log=tmp_path / "run.log", env=SECRET_ENV,
                    extra=["--upstream", f"*={upstream.url}", "--watch", "--watch-interval", "0.1", "--log-format", "json"])
    try:
        assert request("GET", f"{runtime.rest}/echo")[0] == 200
        assert request("GET", f"{runtime.rest}/renamed")[0] == 404
        # hold one request in flight across the reload: it must complete on the old version
        held: list[int] = []
        thread = threading.Thread(target=lambda: held.append(request("GET", f"{runtime.rest}/slow")[0]))
        thread.start()
        poll(lambda: upstream.in_slow == 1, timeout=10)

        # 1. a valid edit: a route renamed, a new tool
        edited = CAPABILITY.replace("    - path: /echo\n", "    - path: /renamed\n").replace(
            "    - {name: echo, description: Echo., call: svc.get-echo}\n",
            "    - {name: echo, description: Echo., call: svc.get-echo}\n    - {name: echo-again, description: Again., call: svc.get-echo}\n")
        assert edited != CAPABILITY
        _edit(capability, edited)
        poll(lambda: request("GET", f"{runtime.rest}/renamed")[0] == 200, timeout=15)
        assert request("GET", f"{runtime.rest}/echo")[0] == 404
        assert mcp_call(runtime.mcp, "echo-again")[2]["result"].get("isError") is not True
        upstream.release()
        thread.join(30)
        assert held == [200]

        # 2. a broken edit: refused, logged with the reason, the last good version keeps serving
        _edit(capability, edited.replace("naftiko: 1.0.0-alpha2", "naftiko: 1.0.0-alpha2\nthis is: [not valid"))
        poll(lambda: "reload refused" in runtime.logs(), timeout=15)
        refusal = next(json.loads(line) for line in runtime.logs().splitlines() if "reload refused" in line)
        assert refusal["file"] == str(capability) and refusal["reason"]
        assert request("GET", f"{runtime.rest}/renamed")[0] == 200
        assert request("GET", f"{runtime.rest}/health/ready")[0] == 200

        # 3. an edit with two operations on one route (issue 15): applied, the first served, a warning names both
        _edit(capability, edited.replace("    - path: /slow\n", "    - path: /renamed\n"))
        poll(lambda: "duplicate route" in runtime.logs(), timeout=15)
        assert runtime.logs().count("reload refused") == 1
        assert request("GET", f"{runtime.rest}/renamed")[0] == 200

        # 4. fixed again: served
        _edit(capability, CAPABILITY)
        poll(lambda: request("GET", f"{runtime.rest}/echo")[0] == 200, timeout=15)
        assert runtime.stop() == 0
    finally:
        runtime.stop()


def test_sigterm_under_load_completes_in_flight_requests(tmp_path: Path, capability: Path, upstream: OpsUpstream) -> None:
    runtime = start_process(capability, log=tmp_path / "run.log", env=SECRET_ENV, extra=["--upstream", f"*={upstream.url}"])
    results: list[tuple[str, int]] = []
    lock = threading.Lock()

    def rest() -> None:
        status = request("GET", f"{runtime.rest}/slow")[0]
        with lock:
            results.append(("rest", status))

    def mcp() -> None:
        _, _, answer = mcp_call(runtime.mcp, "slow")
        with lock:
            results.append(("mcp", 200 if answer and not answer["result"].get("isError") else 500))

    threads = [threading.Thread(target=rest) for _ in range(6)] + [threading.Thread(target=mcp) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        poll(lambda: upstream.in_slow == len(threads), timeout=15)
        runtime.proc.send_signal(signal.SIGTERM)
        # readiness turns DOWN (or the port closes) while the held requests are still in flight
        poll(lambda: _not_ready(runtime.rest), timeout=10)
        assert runtime.proc.poll() is None
        upstream.release()
        for t in threads:
            t.join(30)
        assert sorted(results) == [("mcp", 200)] * 3 + [("rest", 200)] * 6
        runtime.proc.wait(timeout=20)
        assert runtime.proc.returncode == 0
    finally:
        upstream.release()
        runtime.stop()


def _not_ready(base: str) -> bool:
    try:
        return request("GET", f"{base}/health/ready")[0] != 200
    except OSError:
        return True
