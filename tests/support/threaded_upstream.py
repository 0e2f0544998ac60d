"""The recording upstream on an event loop of its own thread, for synchronous tests."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from tests.support.recording_upstream import RecordingUpstream


class ThreadedUpstream:
    """`RecordingUpstream` answering, whatever the route:

    - `/echo*`: 200 echoing method, path and headers (under `/echo-error`: 401, and the
      message repeats the Authorization header and the query string, as careless APIs do);
    - `/slow/*`: waits until `release()`; `in_slow` counts the requests waiting;
    - `/flaky`: 503 for the first `flaky_failures` requests, then 200.

    `requests` lists what arrived as dicts (method, path with query, headers (case-insensitive), body).
    """

    def __init__(self, flaky_failures: int = 2) -> None:
        self.requests: list[dict[str, Any]] = []
        self.flaky_failures = flaky_failures
        self.in_slow = 0
        self.arrived = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="upstream", daemon=True)
        self.upstream = RecordingUpstream(fallback=self._answer)
        self._release: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return self.upstream.url

    async def _answer(self, request: web.BaseRequest, _: RecordingUpstream) -> web.Response:
        assert self._release is not None
        target = request.raw_path
        self.requests.append({"method": request.method, "path": target, "headers": CIMultiDict(request.headers),
                              "body": await request.read()})
        self.arrived.set()
        path, _, query = target.partition("?")
        if path.startswith("/slow/"):
            self.in_slow += 1
            try:
                await asyncio.wait_for(self._release.wait(), 30)
            finally:
                self.in_slow -= 1
        if path == "/echo-error":
            auth = request.headers.get("Authorization")
            return web.json_response({"message": f"credentials {auth} rejected for ?{query}",
                                      "echo": {"authorization": auth, "query": query}}, status=401)
        if path == "/flaky" and sum(1 for r in self.requests if r["path"].startswith("/flaky")) <= self.flaky_failures:
            return web.json_response({"message": "try again"}, status=503)
        return web.json_response({"method": request.method, "path": path, "target": target,
                                  "auth": request.headers.get("Authorization"), "request_id": request.headers.get("X-Request-Id")})

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def release(self) -> None:
        if self._release is not None:
            self.loop.call_soon_threadsafe(self._release.set)

    def __enter__(self) -> ThreadedUpstream:
        self.thread.start()

        async def start() -> None:
            self._release = asyncio.Event()
            await self.upstream.start()

        self._call(start())
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
        self._call(self.upstream.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
