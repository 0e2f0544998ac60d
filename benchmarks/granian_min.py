"""The ceiling reference of the accelerated arm: a minimal proxy on granian (RSGI) + pyreqwest + uvloop.

No capability, no validation, no error mapping: it relays method, path, query, body and the
content type to `GRANIAN_MIN_UPSTREAM` and the answer back. The runtime's own path cannot be
faster than this on the same server and client; it shows what the server side could still gain.

    GRANIAN_MIN_UPSTREAM=http://127.0.0.1:8081 granian --interface rsgi --loop uvloop benchmarks.granian_min:app
"""

from __future__ import annotations

import os
from typing import Any

from pyreqwest.client import Client, ClientBuilder


class Proxy:
    def __init__(self) -> None:
        self.base = os.environ.get("GRANIAN_MIN_UPSTREAM", "http://127.0.0.1:8081").rstrip("/")
        self.client: Client | None = None

    def __rsgi_init__(self, loop: Any) -> None:
        """One pooled client per worker, built in the worker."""
        self.client = ClientBuilder().follow_redirects(False).no_proxy().build()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        assert self.client is not None
        url = self.base + scope.path + ("?" + scope.query_string if scope.query_string else "")
        builder = self.client.request(scope.method, url)
        if scope.method in ("POST", "PUT", "PATCH"):
            builder = builder.body_bytes(await proto())
            content_type = scope.headers.get("content-type")
            if content_type:
                builder = builder.header("Content-Type", content_type)
        response = await builder.build().send()
        body = await response.bytes()
        proto.response_bytes(response.status, [("content-type", response.headers.get("content-type") or "application/octet-stream")],
                             bytes(body))


app = Proxy()
