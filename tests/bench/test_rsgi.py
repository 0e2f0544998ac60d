"""The REST port's one handler served by granian (RSGI, `benchmarks/rsgi.py`, the `rest-granian` arm) answers as aiohttp's server does.

Both servers serve the same real capability file, built as `naftiko run` builds it
(`Runtime.prepare`), against one recording upstream; each request is sent to both and the
answers compared (status, body, the headers that matter), with what the upstream received;
`Expect: 100-continue` is answered by granian itself (`build_rest_app(interim=False)`).
granian runs embedded in the test's loop on a Unix socket: it does not report the port it
bound for port 0.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from benchmarks.rsgi import RsgiApp
from naftiko_runtime.exposes.rest.app import build_rest_app
from naftiko_runtime.runtime import RunOptions
from naftiko_runtime.runtime.run import Runtime

from ..support.recording_upstream import RecordingUpstream, reply
from ..support.runtime import poll_async

pytest.importorskip("granian")

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: RSGI, description: The REST path served by granian and by aiohttp.}
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: http://upstream.invalid
    resources:
    - name: items
      path: /items/{{id}}
      operations:
      - name: get-item
        method: GET
        inputParameters:
        - {name: id, in: path}
    - name: echo
      path: /echo
      operations:
      - name: post-echo
        method: POST
        inputParameters:
        - {name: items, in: body}
  exposes:
  - type: rest
    port: 8080
    namespace: api
    resources:
    - path: /items/{{id}}
      operations:
      - {method: GET, name: get-item, call: up.get-item}
    - path: /echo
      operations:
      - {method: POST, name: post-echo, call: up.post-echo}
"""

MAX_BODY = 1000
COMPARED = ("Content-Type", "X-Request-Id", "Allow", "ETag", "Retry-After")
REQUESTS: list[tuple[str, str, bytes | None, dict[str, str]]] = [
    ("GET", "/items/a%25b?expand=1", None, {"X-Request-Id": "req-1"}),
    ("GET", "/items/down", None, {"X-Request-Id": "req-2"}),
    ("POST", "/echo", b'{"items": [1, 2]}', {"Content-Type": "application/json", "X-Request-Id": "req-3"}),
    ("POST", "/echo", b'{"items": [', {"Content-Type": "application/json", "X-Request-Id": "req-4"}),
    ("POST", "/echo", b'{"items": "' + b"x" * 2 * MAX_BODY + b'"}', {"Content-Type": "application/json"}),
    ("POST", "/echo", b'{"items": [3]}', {"Content-Type": "application/json", "Expect": "100-continue", "X-Request-Id": "req-5"}),
    ("POST", "/echo", b'{"items": "' + b"x" * 2 * MAX_BODY + b'"}', {"Content-Type": "application/json", "Expect": "100-continue"}),
    ("GET", "/nowhere", None, {}),
    ("DELETE", "/echo", None, {}),
    ("GET", "/health/live", None, {}),
    ("HEAD", "/health/ready", None, {}),
]


@asynccontextmanager
async def _aiohttp_base(service: Any) -> AsyncIterator[str]:
    runner = web.ServerRunner(service.server(), shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def _ask(session: aiohttp.ClientSession, base: str, method: str, target: str, body: bytes | None,
               headers: dict[str, str]) -> tuple[int, Any, dict[str, str | None]]:
    expect = headers.pop("Expect", None) is not None  # aiohttp's client sends it and waits for `100 Continue`
    async with session.request(method, base + target, data=body, headers=headers, expect100=expect) as response:
        raw = await response.read()
        kept = {name: response.headers.get(name) for name in COMPARED}
        return response.status, json.loads(raw) if raw else None, kept


@pytest.fixture
async def runtime(tmp_path: Path, upstream: RecordingUpstream) -> AsyncIterator[Runtime]:
    file = tmp_path / "rsgi.yaml"
    file.write_text(FILE)
    runtime = Runtime(RunOptions(files=[file], upstreams={"up": upstream.url}))
    await runtime.prepare()
    try:
        yield runtime
    finally:
        await runtime.layers.close()


async def test_granian_answers_as_the_aiohttp_server(runtime: Runtime, upstream: RecordingUpstream,
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    from granian.constants import Interfaces
    from granian.server.embed import Server

    upstream.route("GET", "/items/a%25b", reply(json={"id": "a%b", "name": "one"}, headers={"ETag": '"v1"'}))
    upstream.route("GET", "/items/down", reply(503, json={"error": "maintenance"}, headers={"Retry-After": "7"}))
    upstream.route("POST", "/echo", reply(json={"accepted": True}))
    [mounted] = runtime.rest_mounts().values()
    served = build_rest_app(mounted, runtime.readiness, max_body=MAX_BODY)
    rsgi = build_rest_app(mounted, runtime.readiness, max_body=MAX_BODY, body_timeout=0, interim=False)

    sock = tmp_path_factory.mktemp("rsgi") / "rest.sock"
    granian = Server(RsgiApp(rsgi), uds=sock, interface=Interfaces.RSGI, websockets=False, log_enabled=False)
    task = asyncio.create_task(granian.serve())
    try:
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(sock))) as over_granian, \
                aiohttp.ClientSession() as over_aiohttp:

            async def granian_up() -> bool:
                try:
                    async with over_granian.get("http://rest/health/live") as response:
                        return response.status == 200
                except aiohttp.ClientConnectionError:
                    return False

            await poll_async(granian_up, timeout=20)
            aiohttp_answers, granian_answers = [], []
            async with _aiohttp_base(served) as base:
                for method, target, body, headers in REQUESTS:
                    aiohttp_answers.append(await _ask(over_aiohttp, base, method, target, body, dict(headers)))
            upstream_saw = [(r.method, r.target, r.body) for r in upstream.requests]
            upstream.requests.clear()
            for method, target, body, headers in REQUESTS:
                granian_answers.append(await _ask(over_granian, "http://rest", method, target, body, dict(headers)))
    finally:
        granian.signal_handler_interrupt()
        await asyncio.wait_for(task, 20)

    statuses = [a[0] for a in aiohttp_answers]
    assert statuses == [200, 503, 200, 400, 413, 200, 413, 404, 405, 200, 200], aiohttp_answers
    for request, by_aiohttp, by_granian in zip(REQUESTS, aiohttp_answers, granian_answers, strict=True):
        assert by_granian == by_aiohttp, request
    assert [(r.method, r.target, r.body) for r in upstream.requests] == upstream_saw
    assert upstream_saw[0] == ("GET", "/items/a%25b?expand=1", b"")  # a path value with `%` passed on as sent
