"""The engine as its own process: kill -9 and restart on the same DB, signals, a busy port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from .helpers import Api, wait_until, write_pipeline

GATED = """
name: Held
on: {pipeline_call: {inputs: {tag: {type: string}}}}
concurrency: {group: one-at-a-time}
jobs:
  main:
    steps:
      - uses: script
        with:
          run: 'echo $$ >> "$PIDS"; echo working; exec sleep 60'
          env: {PIDS: "${{ inputs.tag }}"}
"""
QUICK = "name: Q\non: {pipeline_call: {}}\njobs: {a: {steps: [{uses: log, with: {message: hi}}]}}\n"


async def _spawn(db: Path, pipelines: Path, *extra: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "naftiko_runtime.engine", "serve", "--port", "0", "--db", str(db),
        "--pipelines", str(pipelines), *extra, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert proc.stderr is not None

    async def listening() -> str | None:
        line = (await proc.stderr.readline()).decode()  # type: ignore[union-attr]
        if not line:
            raise AssertionError("the engine exited before listening")
        m = re.search(r"listening on (http://\S+)", line)
        return m.group(1) if m else None

    url = await wait_until(listening, timeout=20, interval=0, what="the engine to listen")
    return proc, url


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_kill_9_and_restart_on_the_same_db(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    db, root, pids = tmp_path / "engine.db", tmp_path / "p", tmp_path / "pids"
    write_pipeline(root, "held", GATED)
    write_pipeline(root, "quick", QUICK)
    proc, url = await _spawn(db, root)
    script_pids: list[int] = []
    try:
        api = Api(session, url, "t-org", "t-app")
        done = await api.create("quick")
        await api.wait_status("quick", done["id"])
        executing = await api.create("held", {"tag": str(pids)})
        queued = await api.create("held", {"tag": str(pids)})  # waits behind the concurrency group
        await api.wait_job("held", executing["id"], "main", "executing")
        await wait_until(lambda: _read_pids(pids), what="the script to start")

        async def logged_working() -> bool:
            lines = await api.logs("held", executing["id"], "main", 0)
            return "working" in [x["message"] for x in lines]

        await wait_until(logged_working, what="the script's output in the step log")
        before = [x["message"] for x in await api.logs("held", executing["id"], "main", 0)]
        assert (await api.run("held", queued["id"]))["status"] == "queued"
        script_pids = await _read_pids(pids) or []
        proc.kill()  # SIGKILL: no chance to clean up
        await proc.wait()

        proc, url = await _spawn(db, root)
        api = Api(session, url, "t-org", "t-app")
        assert (await api.run("quick", done["id"]))["status"] == "succeeded"
        failed = await api.run("held", executing["id"])
        assert failed["status"] == "failed" and "engine stopped" in failed["status_message"]
        job = await api.job("held", executing["id"], "main")
        assert job["status"] == "failed" and job["steps"][0]["status"] == "failed"
        # Log lines are written behind in batches (store.py): a SIGKILL may lose the newest batch,
        # never reorder or invent lines.
        after = [x["message"] for x in await api.logs("held", executing["id"], "main", 0)]
        kept = [m for m in after if m in before]
        assert kept and kept == before[: len(kept)]
        # the queued run was accepted, so it is not lost: it starts now
        await api.wait_job("held", queued["id"], "main", "executing")
        async with session.post(api.r("held", queued["id"]) + "/cancel") as resp:
            assert resp.status == 204
        assert (await api.wait_status("held", queued["id"]))["status"] == "cancelled"
        async with session.get(f"{url}/orgs/t-org/pipeline-runs") as resp:
            assert [r["id"] for r in await resp.json()] == [queued["id"], executing["id"], done["id"]]
        # graceful stop on SIGTERM
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        for pid in script_pids + (await _read_pids(pids) or []):  # the SIGKILLed engine's orphan
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


async def _read_pids(path: Path) -> list[int] | None:
    if not path.exists():
        return None
    pids = [int(x) for x in path.read_text().split() if x.strip()]
    return pids or None


async def test_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "naftiko_runtime.engine", "serve", "--port", str(port), "--db", ":memory:",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        _out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 1
    lines = [x for x in err.decode().splitlines() if x.strip()]
    assert len(lines) == 1 and "already in use" in lines[0] and "Traceback" not in err.decode()
