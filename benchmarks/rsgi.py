"""The REST port's one handler driven by an RSGI server (granian) instead of aiohttp's.

Nothing of the request logic is here: `RsgiRequest` presents an RSGI scope and protocol as the
request view the layers and plans read, `RsgiApp` runs the `RestService`'s handler (its layers
and dispatch table, as composed in `app.build_handler`) and writes the `web.Response` it returns
back through the protocol. Used by the benchmark's `rest-granian` arm (issue 19).

What differs from aiohttp's server, because granian decides it before the app runs: the path
arrives percent-decoded (so `%2F` in a path value routes as `/`, and undecodable escapes in the
path arrive as U+FFFD instead of being refused with 400); `Expect: 100-continue` is answered by
granian when the body is first read (the 413 for a declared body over the limit is still sent
first); and a stalled request body is not bounded by `--body-timeout`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from aiohttp import hdrs, web
from aiohttp._cookie_helpers import parse_cookie_header
from aiohttp.helpers import HeadersMixin, reify
from aiohttp.http import HttpVersion10, HttpVersion11
from multidict import CIMultiDict, CIMultiDictProxy, MultiMapping
from yarl import URL

from naftiko_runtime.exposes.errors import error_response
from naftiko_runtime.exposes.rest.app import RestService
from naftiko_runtime.exposes.rest.request import Exchange
from naftiko_runtime.logs import LOGGER

_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/:@!$&'()*+,;=]*")
_PATH_SAFE = "/:@!$&'()*+,;="


class RsgiRequest(HeadersMixin):
    """An RSGI request as `RequestView` (and the few attributes the layers read)."""

    def __init__(self, scope: Any, proto: Any, max_body: int) -> None:
        self.scope = scope
        self.proto = proto
        self.max_body = max_body
        self.method: str = scope.method
        self.path: str = scope.path  # decoded by granian
        self.query_string: str = scope.query_string
        self.scheme: str = scope.scheme
        self.version = HttpVersion10 if scope.http_version == "1.0" else HttpVersion11
        self._cache: dict[str, Any] = {}  # what `reify` computed, once per request
        self._headers = self.headers
        self._body: bytes | None = None

    @reify
    def headers(self) -> CIMultiDictProxy[str]:
        return CIMultiDictProxy(CIMultiDict(self.scope.headers.items()))

    @reify
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in self.scope.headers.items())

    @reify
    def rel_url(self) -> URL:
        """The path re-encoded (`%` as `%25`), so that `path_safe` reads as it does under aiohttp."""
        path = self.path if _PLAIN_PATH.fullmatch(self.path) else quote(self.path, safe=_PATH_SAFE)
        return URL.build(path=path, query_string=self.query_string, encoded=True)

    @property
    def raw_path(self) -> str:
        url = self.rel_url
        return url.raw_path + ("?" + url.raw_query_string if url.raw_query_string else "")

    @reify
    def query(self) -> MultiMapping[str]:
        return self.rel_url.query

    @reify
    def cookies(self) -> Mapping[str, str]:
        return MappingProxyType({name: morsel.value for name, morsel in parse_cookie_header(self.headers.get(hdrs.COOKIE, ""))})

    @property
    def host(self) -> str:
        return self.headers.get(hdrs.HOST) or self.scope.server

    @reify
    def body_exists(self) -> bool:
        length = self.headers.get(hdrs.CONTENT_LENGTH)
        return (length is not None and length != "0") or hdrs.TRANSFER_ENCODING in self.headers

    @property
    def can_read_body(self) -> bool:
        return self.body_exists and self._body is None

    async def read(self) -> bytes:
        """The whole body; over `max_body`, aiohttp's own 413 (the JSON errors layer words it)."""
        if self._body is not None:
            return self._body
        if not self.body_exists:
            self._body = b""
            return self._body
        length = self.content_length
        if length is not None:
            if length > self.max_body:
                raise web.HTTPRequestEntityTooLarge(max_size=self.max_body, actual_size=length)
            self._body = await self.proto()
            return self._body
        chunks, size = [], 0
        async for chunk in self.proto:
            size += len(chunk)
            if size > self.max_body:
                raise web.HTTPRequestEntityTooLarge(max_size=self.max_body, actual_size=size)
            chunks.append(chunk)
        self._body = b"".join(chunks)
        return self._body


class RsgiApp:
    """An RSGI application serving one `RestService` (built for this server: `interim=False`, no body deadline)."""

    def __init__(self, service: RestService) -> None:
        self.service = service

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        request = RsgiRequest(scope, proto, self.service.max_body)
        try:
            response = await self.service.handler(request, Exchange())  # type: ignore[arg-type]
        except web.HTTPException as exc:  # raised by aiohttp's own checks, already answered in JSON where they matter
            response = web.Response(status=exc.status, headers=exc.headers, text=exc.text)
        except Exception:
            LOGGER.exception("unhandled error in a REST request", extra={"route": scope.path})
            response = error_response(500, "internal_error", "the server failed to answer this request")
        send(proto, response)


def send(proto: Any, response: web.StreamResponse) -> None:
    """Status, headers and body of a handler's (unprepared) response, through the RSGI protocol."""
    if response.prepared or not isinstance(response, web.Response):
        raise TypeError("the RSGI adapter relays whole responses only (web.Response, not prepared)")
    body = response.body
    if body is not None and not isinstance(body, bytes | bytearray):
        raise TypeError(f"the RSGI adapter relays bytes bodies only, not {type(body).__name__}")
    headers = list(response.headers.items())
    if body and hdrs.CONTENT_TYPE not in response.headers:
        headers.append((hdrs.CONTENT_TYPE, "application/octet-stream"))
    if response.keep_alive is False:
        headers.append((hdrs.CONNECTION, "close"))
    if body:
        proto.response_bytes(response.status, headers, bytes(body))
    else:
        proto.response_empty(response.status, headers)
