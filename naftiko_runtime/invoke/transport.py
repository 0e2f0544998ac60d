"""The upstream transport stack, in the manner of httpx: each layer is a `Transport` that
wraps the next one, and the whole stack is composed in one place (`naftiko_runtime.stack`).

    Metrics(Trace(Limit(Retry(Aiohttp))))

- `AiohttpTransport`: one pooled aiohttp session per consumes namespace; one attempt, a
  bounded wait, a clear 502/504 when the upstream fails. Redirects are never followed.
  (`pyreqwest_transport.PyreqwestTransport` does the same over pyreqwest; `wire.open_wire`
  picks one by `UpstreamSettings.client`.)
- `RetryTransport`: sends again on connection errors and 502/503/504, only where that is safe.
- `LimitTransport`: at most N calls in flight per namespace; more fail at once with 503.
- `MockTransport`: answers from a function, for tests of the layers above.

Tracing and metrics layers live with their concerns (`tracing.TraceTransport`,
`metrics.MetricsTransport`) and follow the same protocol.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ..errors import Overloaded, UpstreamError
from .request import UpstreamRequest

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})


@dataclass
class UpstreamSettings:
    connect_timeout: float = 5.0
    total_timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.05
    max_body: int = 10 * 1024 * 1024
    max_connections: int = 100
    client: str = "aiohttp"  # the innermost layer's HTTP client (invoke.wire): aiohttp, or pyreqwest with the `fast` extra


@dataclass
class UpstreamResponse:
    status: int
    headers: CIMultiDictProxy[str] | dict[str, str]
    body: bytes
    content_type: str | None
    attempts: int = 1
    reason: str = ""
    url: str = ""


class Transport(Protocol):
    """Sends one upstream request and returns its answer (raises UpstreamError when there is none)."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...

    async def close(self) -> None: ...


class Wrapper:
    """A layer over another transport: `close` reaches the innermost one."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:  # pragma: no cover - overridden
        return await self.inner.send(request)

    async def close(self) -> None:
        await self.inner.close()


@dataclass
class AiohttpTransport:
    """One attempt over a pooled session per `request.pool_key` (a namespace and its base URI)."""

    settings: UpstreamSettings = field(default_factory=UpstreamSettings)
    _sessions: dict[str, aiohttp.ClientSession] = field(default_factory=dict)

    def session(self, key: str) -> aiohttp.ClientSession:
        session = self._sessions.get(key)
        if session is None or session.closed:
            s = self.settings
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=s.max_connections, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=s.total_timeout, sock_connect=s.connect_timeout),
                auto_decompress=True,
                trust_env=False,
            )
            self._sessions[key] = session
        return session

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)

    async def send(self, req: UpstreamRequest) -> UpstreamResponse:
        session = self.session(req.pool_key)
        limit = self.settings.max_body
        upstream = req.upstream
        kwargs: dict[str, Any] = {"headers": req.headers, "data": req.body, "allow_redirects": False}
        if req.middlewares:
            kwargs["middlewares"] = req.middlewares
        if req.body is None:
            kwargs["skip_auto_headers"] = ("Content-Type",)  # aiohttp would claim octet-stream for a bodyless POST
        try:
            # `encoded=True`: the request builder already percent-encoded every part; letting yarl
            # requote would turn a `%2E%2E` path value back into `..` and normalise it away.
            async with session.request(req.method, URL(req.url, encoded=True), **kwargs) as resp:
                declared = resp.content_length
                if declared is not None and declared > limit:
                    raise UpstreamError(502, "upstream_too_large", f"upstream answered {declared} bytes; the limit is {limit}", upstream)
                if declared is not None:  # the parser stops at the declared length, already checked: one read
                    body = await resp.read()
                else:
                    chunks, size = [], 0
                    async for chunk in resp.content.iter_chunked(65536):
                        size += len(chunk)
                        if size > limit:
                            raise UpstreamError(502, "upstream_too_large", f"upstream answer exceeds the {limit}-byte limit", upstream)
                        chunks.append(chunk)
                    body = b"".join(chunks)
                return UpstreamResponse(resp.status, resp.headers, body, resp.content_type if declared != 0 or body else None,
                                        reason=resp.reason or "", url=req.url)
        except UpstreamError:
            raise
        except TimeoutError:
            raise UpstreamError(
                504, "upstream_timeout",
                f"upstream did not answer within {self.settings.total_timeout:g} s", upstream, retryable=False,
            ) from None
        except aiohttp.ClientConnectionError as exc:
            raise UpstreamError(502, "upstream_unreachable", f"cannot reach upstream: {_reason(exc)}", upstream, retryable=True) from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(502, "upstream_error", f"bad answer from upstream: {_reason(exc)}", upstream) from None


class RetryTransport(Wrapper):
    """Retries idempotent methods (or any carrying an Idempotency-Key) on connection errors and
    502/503/504, with jittered exponential backoff; records the attempts on the answer or error."""

    def __init__(self, inner: Transport, retries: int = 2, backoff: float = 0.05) -> None:
        super().__init__(inner)
        self.retries = retries
        self.backoff = backoff

    async def send(self, req: UpstreamRequest) -> UpstreamResponse:
        safe = req.method in IDEMPOTENT or any(k.lower() == "idempotency-key" for k in req.headers)
        retries = self.retries if safe else 0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.inner.send(req)
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
        await asyncio.sleep(self.backoff * (2 ** (attempt - 1)) * random.uniform(0.5, 1.5))


class LimitTransport(Wrapper):
    """At most `limit` calls in flight per pool key; one more is not queued but fails with 503."""

    def __init__(self, inner: Transport, limit: int) -> None:
        super().__init__(inner)
        self.limit = limit
        self.in_flight: dict[str, int] = {}

    async def send(self, req: UpstreamRequest) -> UpstreamResponse:
        key = req.pool_key
        current = self.in_flight.get(key, 0)
        if current >= self.limit:
            raise Overloaded(req.namespace, self.limit, req.upstream)
        self.in_flight[key] = current + 1
        try:
            return await self.inner.send(req)
        finally:
            self.in_flight[key] -= 1


Handler = Callable[[UpstreamRequest], Awaitable[UpstreamResponse]]


class MockTransport:
    """Answers every request with `handler(request)`: tests of the layers above the wire."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.closed = False

    async def send(self, req: UpstreamRequest) -> UpstreamResponse:
        return await self.handler(req)

    async def close(self) -> None:
        self.closed = True


def _reason(exc: BaseException) -> str:
    """The first line of the error, without the request URL aiohttp appends (it holds query credentials)."""
    text = (exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
