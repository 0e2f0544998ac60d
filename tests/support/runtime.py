"""`naftiko run` for tests: in this process (`start`), or as a real subprocess (`start_process`) where the
process itself is what is tested (signals, exit codes, the environment, stdio).

Both bind every port as 0 and learn the bound ports from the runtime itself (in process) or from
its `listening` log lines (subprocess), so nothing picks a port and rebinds it.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from unittest import mock

CLEANED = ("HUMANITEC_", "INNGEST_", "NAFTIKO_")
BASE_ARGS = ["--rest-port", "0", "--mcp-port", "0", "--engine-port", "0", "--engine-db", ":memory:"]
READY = re.compile(r'"event": "ready"|info\s+ready\b')
LISTENING = re.compile(r'listening[^\n]*?adapter\W+(\w+)[^\n]*?address\W+http://[^\s"]*:(\d+)')


def poll(predicate: Any, timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Call `predicate` until it returns something truthy; the interval only paces the polling."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"condition not met within {timeout}s (last: {value!r})")
        time.sleep(interval)


async def poll_async(predicate: Any, timeout: float = 30.0, interval: float = 0.05) -> Any:
    """`poll` for async tests: `predicate` may be a coroutine function."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"condition not met within {timeout}s (last: {value!r})")
        await asyncio.sleep(interval)


class Running:
    """What tests use of a running runtime, however it was started."""

    ports: dict[str, int]

    @property
    def rest_port(self) -> int:
        return self.ports["rest"]

    @property
    def mcp_port(self) -> int:
        return self.ports["mcp"]

    def port(self, kind: str) -> int:
        return self.ports[kind]

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def mcp(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}/mcp"

    def logs(self) -> str:
        raise NotImplementedError

    def stop(self, timeout: float = 20) -> int:
        raise NotImplementedError


class InProcess(Running):
    """The runtime `naftiko run ARGS` would start, on an event loop of its own in a thread of this process."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, clean: bool = False) -> None:
        from naftiko_runtime.cli import run, run_options
        from naftiko_runtime.logs import JsonFormatter, RedactingFilter, TextFormatter
        from naftiko_runtime.runtime import Runtime

        self.environ = {k: v for k, v in os.environ.items() if not (clean and k.startswith(CLEANED))}
        self.environ.update(env or {})
        with mock.patch.dict(os.environ, self.environ, clear=True):  # NAFTIKO_* variables are read as the CLI reads them
            params = run.make_context("run", list(args)).params
            options = run_options(**params)
        options.env = self.environ
        self.runtime = Runtime(options)
        self.args = args
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter() if params["log_format"] == "json" else TextFormatter())
        self.handler.addFilter(RedactingFilter())
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="naftiko-run", daemon=True)
        self.watcher: Any = None
        self.ports = {}

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run `coro` on the runtime's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> InProcess:
        from naftiko_runtime.logs import LOGGER

        LOGGER.addHandler(self.handler)
        self.level = LOGGER.level
        LOGGER.setLevel(logging.INFO)
        self.thread.start()
        try:
            with mock.patch.dict(os.environ, self.environ, clear=True):
                self.call(self.runtime.start())
        except BaseException:
            self.stop()
            raise
        for (kind, _), port in self.runtime.started.items():
            self.ports.setdefault(kind, port)
        if self.runtime.metrics_server is not None:
            self.ports["metrics"] = self.runtime.metrics_server.port
        if self.runtime.options.watch:
            async def watch() -> Any:
                return asyncio.create_task(self.runtime.watch())

            self.watcher = self.call(watch())
        return self

    def logs(self) -> str:
        return self.stream.getvalue()

    def stop(self, timeout: float = 20) -> int:
        from naftiko_runtime.logs import LOGGER

        if self.thread.is_alive():
            if self.watcher is not None:
                self.loop.call_soon_threadsafe(self.watcher.cancel)
            try:
                self.call(self.runtime.stop(), timeout)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(timeout)
                self.loop.close()
                LOGGER.removeHandler(self.handler)
                LOGGER.setLevel(self.level)
        return 0


def start(*files: Path | str, log: Path | None = None, extra: list[str] | None = None,
          env: dict[str, str] | None = None, clean: bool = False) -> InProcess:
    """`naftiko run FILES` in this process, every port 0 (`log` is accepted for symmetry with `start_process`).

    `env` is the environment the runtime sees (binds, NAFTIKO_* settings); `clean` leaves out the
    caller's HUMANITEC_*, INNGEST_* and NAFTIKO_* variables.
    """
    return InProcess([*map(str, files), *BASE_ARGS, *(extra or [])], env, clean).start()


class Process(Running):
    proc: subprocess.Popen[bytes]

    def __init__(self, proc: subprocess.Popen[bytes], log: Path, args: list[str]) -> None:
        self.proc, self.log, self.args = proc, log, args
        self.ports = {}

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"naftiko run exited with {self.proc.returncode}")
        text = self.logs()
        if not READY.search(text):
            return False
        for kind, port in LISTENING.findall(text):
            self.ports.setdefault(kind, int(port))
        port = next(iter(self.ports.values()), None)
        if port is None:
            return True
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None, *, clean: bool = False,
          timeout: float = 30) -> Process:
    """`naftiko ARGS` as a subprocess, waited for until it logs `ready` and its first port answers.

    `clean`: without the caller's NAFTIKO_* variables, for tests of the environment itself.
    """
    base = {k: v for k, v in os.environ.items() if not (clean and k.startswith("NAFTIKO_"))}
    command = [sys.executable, "-m", "naftiko_runtime", *args]
    with log.open("wb") as handle:
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env={**base, **(env or {})})
    running = Process(proc, log, command)
    try:
        poll(running._ready, timeout=timeout)
    except Exception:
        running.stop()
        raise RuntimeError(f"runtime did not start:\n{running.logs()}") from None
    return running


def start_process(*files: Path | str, log: Path, extra: list[str] | None = None,
                  env: dict[str, str] | None = None) -> Process:
    """`naftiko run FILES` as a subprocess, every port 0."""
    return spawn(["run", *map(str, files), *BASE_ARGS, *(extra or [])], log, env)


def request(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """One HTTP call; returns status, headers and the JSON body (or text, or None when empty)."""
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, rh, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, rh, raw = exc.code, dict(exc.headers), exc.read()
    if not raw:
        return status, rh, None
    try:
        return status, rh, json.loads(raw)
    except ValueError:
        return status, rh, raw.decode("utf-8", "replace")


Runtime = Running  # the name the tests annotate with
