"""The REST port's dispatch table (issue 19: no aiohttp router, no middleware chain): which route a request
reaches, what 404 and 405 say, and what the access log writes for routed and refused requests."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from naftiko_runtime import logs

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve
from .test_exposed_routes import HYPHENS

THINGS = """\
naftiko: 1.0.0-alpha2
info: {label: Things, description: A literal route and a templated one under the same prefix.}
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://up.example.com/api
    resources:
    - name: special
      path: /things/special
      operations:
      - {name: get-special, method: GET}
    - name: thing
      path: /things/{id}
      operations:
      - {name: create-thing, method: POST}
      - {name: delete-thing, method: DELETE}
  exposes:
  - type: rest
    port: 8080
    namespace: things
    resources:
    - path: /things/special
      operations:
      - {method: GET, name: get-special, call: up.get-special}
    - path: /things/{id}
      operations:
      - {method: POST, name: create-thing, call: up.create-thing}
      - {method: DELETE, name: delete-thing, call: up.delete-thing}
"""


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """The runtime's text log in a buffer at `info` (restored afterwards)."""
    root = logging.getLogger()
    saved = (list(logs.LOGGER.handlers), logs.LOGGER.level, logs.LOGGER.propagate, list(root.handlers), root.level,
             logs.ACCESS_LOG.handler, logs.ACCESS_LOG.json)
    buffer = io.StringIO()
    logs.configure("text", "info", stream=buffer)
    yield buffer
    logs.LOGGER.handlers[:], logs.LOGGER.level, logs.LOGGER.propagate = saved[0], saved[1], saved[2]
    root.handlers[:], root.level = saved[3], saved[4]
    logs.ACCESS_LOG.install(saved[5], saved[6])


def _requests(buffer: io.StringIO) -> list[str]:
    return [line for line in buffer.getvalue().splitlines() if " request " in line]


async def test_a_method_the_literal_route_lacks_reaches_the_templated_route(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "things.yaml"
    file.write_text(THINGS)
    upstream.route("POST", "/api/things/special", reply(json={"created": True}))
    upstream.route("GET", "/api/things/special", reply(json={"special": True}))
    async with serve(file, {"*": upstream.url + "/api"}) as served:
        base = served.rest("things")
        assert (await served.call("GET", base + "/things/special"))[0] == 200
        status, text = await served.call("POST", base + "/things/special", json={})
        assert status == 200, text
        status, text = await served.call("PUT", base + "/things/special")
        assert status == 405 and '"method_not_allowed"' in text and "allowed: DELETE, GET, POST" in text
        async with served.session.put(base + "/things/special") as response:
            assert response.headers["Allow"] == "DELETE, GET, POST"
        async with served.session.get(base + "/things/one/two") as response:
            assert response.status == 404 and (await response.json())["error"] == "not_found"
        async with served.session.head(base + "/health/live") as response:
            assert response.status == 200
    assert [(r.method, r.raw_path) for r in upstream.requests] == [("GET", "/api/things/special"), ("POST", "/api/things/special")]


async def test_a_percent_encoded_slash_stays_in_one_placeholder(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "things.yaml"
    file.write_text(THINGS)
    upstream.route("DELETE", "/api/things/a%2Fb", reply(204))
    async with serve(file, {"*": upstream.url + "/api"}) as served:
        status, _ = await served.call("DELETE", served.rest("things") + "/things/a%2Fb")
        missing, _ = await served.call("DELETE", served.rest("things") + "/things/a/b")
    assert (status, missing) == (204, 404)
    assert [r.raw_path for r in upstream.requests] == ["/api/things/a%2Fb"]


async def test_the_access_log_names_the_route_as_declared(tmp_path: Path, upstream: RecordingUpstream, log_buffer: io.StringIO) -> None:
    """aiohttp's router could not take `{inspection-id}`, so the line showed the renamed `{_inspection_id}`."""
    file = tmp_path / "hyphens.yaml"
    file.write_text(HYPHENS)
    upstream.route("GET", "/api/fais/I-7/parts/p.9", reply(json={"ok": True}))
    async with serve(file, {"*": upstream.url + "/api"}) as served:
        status, _ = await served.call("GET", served.rest("mfg-rest") + "/inspections/I-7/parts/p.9", headers={"X-Request-Id": "rid-1"})
    assert status == 200
    [line] = [line for line in _requests(log_buffer) if "rid-1" in line]
    assert "route=/inspections/{inspection-id}/parts/{part.id} operation=get-fai status=200 upstream_status=200" in line


async def test_a_body_refused_at_expect_100_continue_is_logged(tmp_path: Path, upstream: RecordingUpstream, log_buffer: io.StringIO) -> None:
    """The 413 sent instead of `100 Continue` went out before aiohttp's middlewares, so no line was written."""
    file = tmp_path / "things.yaml"
    file.write_text(THINGS)
    async with serve(file, {"*": upstream.url + "/api"}) as served:
        port = served.runtime.started[("rest", "things")]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /things/x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 524288000\r\nExpect: 100-continue\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        writer.close()
    assert head.startswith(b"HTTP/1.1 413"), head
    assert upstream.requests == []
    [line] = [line for line in _requests(log_buffer) if "status=413" in line]
    assert "method=POST route=/things/x" in line
