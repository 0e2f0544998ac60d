"""The upstream wire over pyreqwest (Rust's reqwest and hyper): the optional `fast` extra.

Same contract as `AiohttpTransport`: one pooled client per `request.pool_key`, connect and total
timeouts, redirects never followed, the answer bounded by `max_body`, the same `UpstreamError`s
(so the same 502/504 answers). Chosen with `naftiko run --http-client pyreqwest`.

What only aiohttp can send exactly as built goes through an `AiohttpTransport` instead, so an
upstream sees the same request whichever client is chosen:

- a request carrying aiohttp client middlewares (digest authentication);
- a URL that the WHATWG parser behind reqwest would rewrite: it resolves percent-encoded dot
  segments (`/a/%2E%2E/b` becomes `/b`), which the request builder encodes precisely so that a
  caller's `..` stays one literal segment.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import NetworkError, PyreqwestError, RequestTimeoutError
from pyreqwest.http import Url

from ..errors import UpstreamError
from .request import UpstreamRequest
from .transport import AiohttpTransport, UpstreamResponse, UpstreamSettings

# Methods sent without Content-Length when they carry nothing (aiohttp's GET_METHODS)
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "CONNECT", "TRACE"})


@dataclass
class PyreqwestTransport:
    """One attempt over a pooled pyreqwest client per `request.pool_key`."""

    settings: UpstreamSettings = field(default_factory=UpstreamSettings)
    _clients: dict[str, Client] = field(default_factory=dict)
    _fallback: AiohttpTransport | None = None

    def client(self, key: str) -> Client:
        client = self._clients.get(key)
        if client is None:
            s = self.settings
            client = (
                ClientBuilder()
                .follow_redirects(False)
                .no_proxy()  # aiohttp's trust_env=False: proxies come from nowhere but the file
                .referer(False)
                .max_connections(s.max_connections)
                .pool_idle_timeout(timedelta(seconds=30))
                .connect_timeout(timedelta(seconds=s.connect_timeout))
                .timeout(timedelta(seconds=s.total_timeout))
                .build()
            )
            self._clients[key] = client
        return client

    @property
    def fallback(self) -> AiohttpTransport:
        if self._fallback is None:
            self._fallback = AiohttpTransport(self.settings)
        return self._fallback

    @property
    def session_count(self) -> int:
        return len(self._clients) + (self._fallback.session_count if self._fallback else 0)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        closing = [c.close() for c in clients]
        if self._fallback is not None:
            closing.append(self._fallback.close())
        await asyncio.gather(*closing, return_exceptions=True)

    async def send(self, req: UpstreamRequest) -> UpstreamResponse:
        url = _faithful_url(req.url)
        if url is None or req.middlewares:
            return await self.fallback.send(req)
        upstream, limit = req.upstream, self.settings.max_body
        builder = self.client(req.pool_key).request(req.method, url).headers(req.headers)
        if isinstance(req.body, aiohttp.FormData):
            payload = req.body()
            builder = builder.header("Content-Type", payload.content_type).body_bytes(await payload.as_bytes())
        elif req.body is not None:
            builder = builder.body_bytes(req.body)
        elif req.method not in _BODYLESS:
            builder = builder.header("Content-Length", "0")  # as aiohttp sends; hyper omits it, and some servers answer 411
        try:
            async with builder.build_streamed() as resp:
                headers = CIMultiDictProxy(CIMultiDict(resp.headers.items()))
                declared = _length(headers.get("Content-Length"))
                if declared is not None and declared > limit:
                    raise UpstreamError(502, "upstream_too_large", f"upstream answered {declared} bytes; the limit is {limit}", upstream)
                reader = resp.body_reader
                if declared is not None:
                    # reqwest drops Content-Length when it decompresses, so a declared length is the body's own
                    body = bytes(await reader.bytes()) if declared else b""
                else:
                    chunks: list[Any] = []
                    size = 0
                    while (chunk := await reader.read_chunk()) is not None:
                        size += len(chunk)
                        if size > limit:
                            raise UpstreamError(502, "upstream_too_large", f"upstream answer exceeds the {limit}-byte limit", upstream)
                        chunks.append(chunk)
                    body = b"".join(chunks)
                status = resp.status
        except UpstreamError:
            raise
        except RequestTimeoutError:
            raise UpstreamError(
                504, "upstream_timeout",
                f"upstream did not answer within {self.settings.total_timeout:g} s", upstream, retryable=False,
            ) from None
        except NetworkError as exc:
            raise UpstreamError(502, "upstream_unreachable", f"cannot reach upstream: {_reason(exc)}", upstream, retryable=True) from None
        except PyreqwestError as exc:
            raise UpstreamError(502, "upstream_error", f"bad answer from upstream: {_reason(exc)}", upstream) from None
        return UpstreamResponse(status, headers, body, _mime(headers) if declared != 0 or body else None,
                                reason=_phrase(status), url=req.url)


def _faithful_url(url: str) -> Url | None:
    """`url` parsed, or None when parsing would change it (resolved dot segments, a `\\` read as `/`)."""
    try:
        parsed = Url(url)
    except Exception:  # whatever reqwest cannot parse, aiohttp reports in its own words
        return None
    return parsed if str(parsed) == url else None


def _length(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _mime(headers: CIMultiDictProxy[str]) -> str:
    """The media type without parameters, lower case; `application/octet-stream` when absent (as aiohttp's `content_type`)."""
    value = headers.get("Content-Type")
    mime = value.split(";", 1)[0].strip().lower() if value else ""
    return mime or "application/octet-stream"


def _phrase(status: int) -> str:
    """reqwest keeps no reason phrase: the standard one for the status."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _reason(exc: PyreqwestError) -> str:
    """The innermost cause, in one line: reqwest's own message names the URL (it may hold query credentials)."""
    details = getattr(exc, "details", None) or {}
    causes = [c.get("message", "") for c in details.get("causes") or [] if isinstance(c, dict)]
    text = next((c for c in reversed(causes) if c and "://" not in c), "") or type(exc).__name__
    return text.strip().splitlines()[0]
