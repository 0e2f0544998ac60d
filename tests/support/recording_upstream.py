"""A real HTTP upstream on a loopback port that answers canned replies and records every request.

Routes are keyed by method and *raw* path (exactly as sent, still percent-encoded, without
the query). Each route holds a queue of behaviours; the last one repeats. Besides plain
replies it can hang (until the test ends), close the connection, stream an endless body,
and answer 401 with a Digest challenge that it then really verifies.

    upstream.route("GET", "/v1/runs/r1", reply(json={"id": "r1"}))
    upstream.route("GET", "/x", reply(status=503), reply(json={}))   # 503 then 200
    ...
    [req] = upstream.requests
"""

from __future__ import annotations

import asyncio
import hashlib
import json as jsonlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

Behaviour = Callable[[web.BaseRequest, "RecordingUpstream"], Any]


@dataclass
class Recorded:
    method: str
    raw_path: str
    query_string: str
    query: list[tuple[str, str]]
    headers: CIMultiDict[str]
    body: bytes

    @property
    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def target(self) -> str:
        """`raw_path?query_string`, as on the request line."""
        return self.raw_path + (f"?{self.query_string}" if self.query_string else "")


@dataclass
class RecordingUpstream:
    requests: list[Recorded] = field(default_factory=list)
    routes: dict[tuple[str, str], list[Behaviour]] = field(default_factory=dict)
    url: str = ""
    released: asyncio.Event = field(default_factory=asyncio.Event)
    streamed_bytes: int = 0
    fallback: Behaviour | None = None  # answers what no route matches (default: 404 no_route)
    _runner: web.ServerRunner | None = None

    def route(self, method: str, raw_path: str, *behaviours: Behaviour) -> None:
        self.routes[(method.upper(), raw_path)] = list(behaviours) or [reply()]

    def hits(self, method: str | None = None, raw_path: str | None = None) -> list[Recorded]:
        return [
            r for r in self.requests
            if (method is None or r.method == method) and (raw_path is None or r.raw_path == raw_path)
        ]

    async def start(self) -> RecordingUpstream:
        server = web.Server(self._handle)
        self._runner = web.ServerRunner(server, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self.released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        raw = request.raw_path
        path, _, query_string = raw.partition("?")
        body = await request.read()
        self.requests.append(
            Recorded(request.method, path, query_string, list(request.query.items()), CIMultiDict(request.headers), body)
        )
        queue = self.routes.get((request.method, path))
        if queue is None and self.fallback is not None:
            return await self.fallback(request, self)
        if queue is None:
            return web.json_response({"error": "no_route", "message": f"no route {request.method} {path}"}, status=404)
        behaviour = queue.pop(0) if len(queue) > 1 else queue[0]
        return await behaviour(request, self)


# -- behaviours ------------------------------------------------------------------------


def reply(
    status: int = 200,
    *,
    json: Any = None,
    body: bytes | str | None = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Behaviour:
    """A canned answer: `json=` (serialised) or raw `body=`; no body at all when neither."""

    async def behave(request: web.BaseRequest, upstream: RecordingUpstream) -> web.StreamResponse:
        data: bytes | None
        ctype = content_type
        if json is not None:
            data, ctype = jsonlib.dumps(json).encode(), ctype or "application/json"
        elif body is not None:
            data = body.encode() if isinstance(body, str) else body
        else:
            data = None
        response = web.Response(status=status, body=data, headers=headers)
        if ctype and data is not None:
            response.content_type = ctype.split(";")[0]
        return response

    return behave


def hang() -> Behaviour:
    """Never answer while the test runs (released at teardown)."""

    async def behave(request: web.BaseRequest, upstream: RecordingUpstream) -> web.StreamResponse:
        await upstream.released.wait()
        return web.Response(status=599)

    return behave


def close_connection() -> Behaviour:
    """Drop the TCP connection without writing a status line."""

    async def behave(request: web.BaseRequest, upstream: RecordingUpstream) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.abort()
        return web.Response()

    return behave


def endless_body(chunk: int = 64 * 1024, content_length: int | None = None) -> Behaviour:
    """200 application/json, streaming chunks until the client goes away.

    With `content_length` the header announces that size (the client may refuse on sight).
    `upstream.streamed_bytes` tells how much was written before the client stopped reading.
    """

    async def behave(request: web.BaseRequest, upstream: RecordingUpstream) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        if content_length is not None:
            response.content_length = content_length
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        piece = b"[" + b"1," * (chunk // 2)
        try:
            while not upstream.released.is_set():
                await response.write(piece)
                upstream.streamed_bytes += len(piece)
                if content_length is not None and upstream.streamed_bytes >= content_length:
                    break
        except (ConnectionError, RuntimeError):
            pass
        return response

    return behave


def digest_protected(username: str, password: str, then: Behaviour, realm: str = "naftiko-test") -> Behaviour:
    """401 + `WWW-Authenticate: Digest` until a request carries a correct digest response (RFC 7616, MD5, qop=auth)."""
    nonce = secrets.token_hex(16)

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    async def behave(request: web.BaseRequest, upstream: RecordingUpstream) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if header.startswith("Digest "):
            fields = _parse_digest(header[len("Digest "):])
            ha1 = md5(f"{username}:{realm}:{password}")
            ha2 = md5(f"{request.method}:{fields.get('uri', '')}")
            expected = md5(f"{ha1}:{nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:auth:{ha2}")
            if (
                fields.get("username") == username
                and fields.get("nonce") == nonce
                and fields.get("uri") == request.raw_path
                and fields.get("response") == expected
            ):
                return await then(request, upstream)
        challenge = f'Digest realm="{realm}", nonce="{nonce}", qop="auth", algorithm=MD5'
        return web.json_response({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": challenge})

    return behave


def _parse_digest(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        while i < len(text) and text[i] in " ,":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            break
        key = text[i:eq].strip()
        i = eq + 1
        if i < len(text) and text[i] == '"':
            end = text.find('"', i + 1)
            out[key] = text[i + 1 : end]
            i = end + 1
        else:
            end = text.find(",", i)
            end = len(text) if end < 0 else end
            out[key] = text[i:end].strip()
            i = end
    return out
