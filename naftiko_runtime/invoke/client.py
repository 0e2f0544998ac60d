"""Sending upstream: one pooled aiohttp session per consumes namespace, bounded waits,
retries only where they are safe, and a clear 502/504 when the upstream fails."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from .errors import UpstreamError
from .request import UpstreamRequest

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Caller headers passed to the upstream by default: they make a retried write safe.
FORWARDED_HEADERS = ("Idempotency-Key", "If-Match")
RETRY_STATUSES = frozenset({502, 503, 504})


def is_redirect(status: int) -> bool:
    """A 3xx that points elsewhere (304 Not Modified is an answer, not a redirect)."""
    return 300 <= status < 400 and status != 304


@dataclass
class UpstreamSettings:
    connect_timeout: float = 5.0
    total_timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.05
    max_body: int = 10 * 1024 * 1024
    max_connections: int = 100


@dataclass
class UpstreamResponse:
    status: int
    headers: CIMultiDictProxy[str] | dict[str, str]
    body: bytes
    content_type: str | None
    attempts: int = 1
    reason: str = ""
    url: str = ""


@dataclass
class UpstreamPool:
    settings: UpstreamSettings = field(default_factory=UpstreamSettings)
    _sessions: dict[str, aiohttp.ClientSession] = field(default_factory=dict)

    def session(self, namespace: str) -> aiohttp.ClientSession:
        session = self._sessions.get(namespace)
        if session is None or session.closed:
            s = self.settings
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=s.max_connections, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=s.total_timeout, sock_connect=s.connect_timeout),
                auto_decompress=True,
                trust_env=False,
            )
            self._sessions[namespace] = session
        return session

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)

    async def send(
        self, namespace: str, upstream: str, req: UpstreamRequest, middlewares: list[Any] | None = None
    ) -> UpstreamResponse:
        """Send with retries for idempotent methods (or any carrying an Idempotency-Key) on
        connection errors and 502/503/504. Redirects are never followed: the adapter decides."""
        safe = req.method in IDEMPOTENT or any(k.lower() == "idempotency-key" for k in req.headers)
        retries = self.settings.retries if safe else 0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._once(namespace, upstream, req, middlewares)
            except UpstreamError as exc:
                if exc.retryable and attempt <= retries:
                    await self._pause(attempt)
                    continue
                exc.attempts = attempt
                raise
            if response.status in RETRY_STATUSES and attempt <= retries:
                await self._pause(attempt)
                continue
            response.attempts = attempt
            return response

    async def _pause(self, attempt: int) -> None:
        await asyncio.sleep(self.settings.backoff * (2 ** (attempt - 1)) * random.uniform(0.5, 1.5))

    async def _once(
        self, namespace: str, upstream: str, req: UpstreamRequest, middlewares: list[Any] | None
    ) -> UpstreamResponse:
        session = self.session(namespace)
        limit = self.settings.max_body
        kwargs: dict[str, Any] = {"headers": req.headers, "data": req.body, "allow_redirects": False}
        if middlewares:
            kwargs["middlewares"] = middlewares
        if req.body is None:
            kwargs["skip_auto_headers"] = ("Content-Type",)  # aiohttp would claim octet-stream for a bodyless POST
        try:
            # `encoded=True`: the request builder already percent-encoded every part; letting yarl
            # requote would turn a `%2E%2E` path value back into `..` and normalise it away.
            async with session.request(req.method, URL(req.url, encoded=True), **kwargs) as resp:
                declared = resp.content_length
                if declared is not None and declared > limit:
                    raise UpstreamError(502, "upstream_too_large", f"upstream answered {declared} bytes; the limit is {limit}", upstream)
                chunks, size = [], 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > limit:
                        raise UpstreamError(502, "upstream_too_large", f"upstream answer exceeds the {limit}-byte limit", upstream)
                    chunks.append(chunk)
                return UpstreamResponse(resp.status, resp.headers, b"".join(chunks), resp.content_type if resp.content_length != 0 or chunks else None,
                                        reason=resp.reason or "", url=req.url)
        except UpstreamError:
            raise
        except asyncio.TimeoutError:
            raise UpstreamError(
                504, "upstream_timeout",
                f"upstream did not answer within {self.settings.total_timeout:g} s", upstream, retryable=False,
            ) from None
        except aiohttp.ClientConnectionError as exc:
            raise UpstreamError(502, "upstream_unreachable", f"cannot reach upstream: {_reason(exc)}", upstream, retryable=True) from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(502, "upstream_error", f"bad answer from upstream: {_reason(exc)}", upstream) from None


def _reason(exc: BaseException) -> str:
    """The first line of the error, without the request URL aiohttp appends (it holds query credentials)."""
    text = (exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
