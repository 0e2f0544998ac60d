"""What one client connection may hold of a running server (issue 20, items 6 and 7).

`naftiko run` in process (`runtime.Runtime`) on loopback port 0, REST and MCP, with small
limits; raw sockets play the attacker, and after each attack a normal request must
still be answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from naftiko_runtime.limits import ConnectionLimits
from naftiko_runtime.runtime import RunOptions, Runtime

PIPELINERUNS = Path(__file__).resolve().parents[2] / "capabilities" / "humanitec-pipelineruns.yaml"

POST_PATH = "/v1/orgs/o/apps/a/pipelines/p/runs"  # a declared REST POST route
DEADLINE = 5.0  # how long a refused or timed-out connection may take to be closed (timeouts are 0.5 s)


async def serving(limits: ConnectionLimits) -> Runtime:
    runtime = Runtime(RunOptions(
        files=[PIPELINERUNS], rest_port=0, mcp_port=0, upstreams={"*": "http://127.0.0.1:9"},
        connections=limits, max_body=1024 * 1024, shutdown_grace=1.0,
    ))
    await runtime.start()
    return runtime


@contextlib.asynccontextmanager
async def running(**limits: float) -> AsyncIterator[dict[str, int]]:
    runtime = await serving(ConnectionLimits(**limits))  # type: ignore[arg-type]
    ports = {kind: port for (kind, _), port in runtime.started.items()}
    try:
        yield ports
    finally:
        await runtime.stop()


async def exchange(port: int, request: bytes) -> bytes:
    """Send one request on a new connection, return everything read until the server closes or 5 s pass."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await read_until_closed(reader)
    finally:
        writer.close()


async def read_until_closed(reader: asyncio.StreamReader, deadline: float = DEADLINE) -> bytes:
    """Everything until EOF; fails if the server keeps the connection open past `deadline`."""
    data = b""
    end = time.monotonic() + deadline
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the server kept the connection open for {deadline} s; read so far: {data[:200]!r}")
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.") else 0


async def still_serving(port: int) -> None:
    response = await exchange(port, b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status(response) == 200, response[:300]


def get(path: str, extra: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + b"Connection: close\r\n\r\n"


# -- 6. header size ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mcp", "rest"])
async def test_a_header_over_max_header_size_is_refused(kind: str) -> None:
    async with running(max_header_size=4096) as ports:
        port = ports[kind]
        response = await exchange(port, get("/health/live", b"X-Big: " + b"a" * 6000 + b"\r\n"))
        # MCP answers 431; aiohttp answers its parser's 400 ("Got more than 4096 bytes")
        assert status(response) == (431 if kind == "mcp" else 400), response[:300]
        assert b"4096" in response
        response = await exchange(port, get("/health/live", b"X-Fits: " + b"a" * 3000 + b"\r\n"))
        assert status(response) == 200, response[:300]


async def test_an_endless_mcp_header_is_cut_off_while_it_streams() -> None:
    """The header is refused once the limit is passed, not buffered to its end."""
    async with running(max_header_size=8192) as ports:
        reader, writer = await asyncio.open_connection("127.0.0.1", ports["mcp"])
        answer = asyncio.create_task(read_until_closed(reader))
        writer.write(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent = 0
        with contextlib.suppress(ConnectionError):
            while sent < 50 * 1024 * 1024 and not answer.done():
                writer.write(b"a" * 16384)
                await asyncio.wait_for(writer.drain(), DEADLINE)
                sent += 16384
        response = await answer
        writer.close()
        # the answer may be lost to the reset that closing on unread bytes causes; the cut-off is what counts
        assert status(response) == 431 or response == b"", response[:300]
        assert sent < 4 * 1024 * 1024  # before the limit, the server swallowed 39 MB of it
        await still_serving(ports["mcp"])


# -- 7. timeouts --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mcp", "rest"])
async def test_an_idle_socket_is_closed_after_the_header_timeout(kind: str) -> None:
    async with running(header_timeout=0.5, keepalive_timeout=30) as ports:
        reader, writer = await asyncio.open_connection("127.0.0.1", ports[kind])
        start = time.monotonic()
        await read_until_closed(reader)
        writer.close()
        assert time.monotonic() - start < DEADLINE
        await still_serving(ports[kind])


@pytest.mark.parametrize("kind", ["mcp", "rest"])
async def test_slowloris_headers_are_cut_off_after_the_header_timeout(kind: str) -> None:
    async with running(header_timeout=0.5, keepalive_timeout=30) as ports:
        reader, writer = await asyncio.open_connection("127.0.0.1", ports[kind])
        answer = asyncio.create_task(read_until_closed(reader))
        writer.write(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        with contextlib.suppress(ConnectionError):
            while not answer.done():  # a header line every 0.1 s, never the blank line
                writer.write(b"X-a: b\r\n")
                await writer.drain()
                await asyncio.sleep(0.1)
        await answer  # fails if the connection is still open after DEADLINE
        writer.close()
        await still_serving(ports[kind])


@pytest.mark.parametrize("kind", ["mcp", "rest"])
async def test_an_idle_keepalive_connection_is_closed(kind: str) -> None:
    async with running(header_timeout=30, keepalive_timeout=0.5) as ports:
        reader, writer = await asyncio.open_connection("127.0.0.1", ports[kind])
        writer.write(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE)
        assert status(head) == 200
        await read_until_closed(reader, deadline=3.0)  # uvicorn's default keep-alive alone is 5 s
        writer.close()


@pytest.mark.parametrize(("kind", "path"), [("mcp", "/mcp"), ("rest", POST_PATH)])
@pytest.mark.parametrize("chunked", [False, True])
async def test_a_stalled_body_is_cut_off_after_the_body_timeout(kind: str, path: str, chunked: bool) -> None:
    async with running(body_timeout=0.5, header_timeout=30, keepalive_timeout=30) as ports:
        reader, writer = await asyncio.open_connection("127.0.0.1", ports[kind])
        framing = b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":" if chunked else b"Content-Length: 1000\r\n\r\n{\"a\":"
        writer.write(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\n" + framing
        )
        await writer.drain()
        start = time.monotonic()
        response = await read_until_closed(reader)
        writer.close()
        assert time.monotonic() - start < DEADLINE
        if kind == "rest":
            assert status(response) == 408, response[:300]
        await still_serving(ports[kind])


# -- 7. connection cap --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mcp", "rest"])
async def test_connections_over_max_connections_are_refused(kind: str) -> None:
    async with running(max_connections=4, header_timeout=30, keepalive_timeout=30) as ports:
        port = ports[kind]
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(4)]
        try:
            response = await exchange(port, get("/health/live"))
            assert status(response) == 503, response[:300]
            assert b"too_many_connections" in response
        finally:
            for _, writer in held:
                writer.close()

        async def answered() -> bytes:
            return await exchange(port, get("/health/live"))

        end = time.monotonic() + DEADLINE
        while status(response := await answered()) != 200:  # the held connections are closing
            assert time.monotonic() < end, response[:300]
            await asyncio.sleep(0.05)


# -- 7. 100 Continue and the stateless SSE stream -----------------------------------------


@pytest.mark.parametrize(("kind", "path"), [("mcp", "/mcp"), ("rest", POST_PATH)])
async def test_a_declared_oversized_body_gets_413_before_100_continue(kind: str, path: str) -> None:
    async with running() as ports:
        reader, writer = await asyncio.open_connection("127.0.0.1", ports[kind])
        writer.write(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\nContent-Length: 524288000\r\nExpect: 100-continue\r\n\r\n"
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE)
        writer.close()
        assert status(head) == 413, head


async def test_stateless_get_mcp_answers_405_instead_of_an_endless_stream() -> None:
    async with running() as ports:
        response = await exchange(ports["mcp"], get("/mcp", b"Accept: text/event-stream\r\n"))
        assert status(response) == 405, response[:300]
        assert b"\r\nallow: post\r\n" in response.lower()
        body = json.loads(response.split(b"\r\n\r\n", 1)[1])
        assert body["error"] == "method_not_allowed"
