"""CORS for browser clients: the origins given with `--cors-origin`, nothing by default.

One policy, two thin layers: a wrapper in the REST ports' layers (`rest/layers.cors`) and
an ASGI wrapper in front of the MCP app. A preflight (`OPTIONS` with `Access-Control-Request-Method`) from
an allowed origin is answered 204 here, before routing, authentication or the MCP guard;
an actual request from it gets `Access-Control-Allow-Origin` and the exposed headers on
whatever it is answered, errors included. Requests from other origins are left as they are
(no CORS headers, so the browser refuses to read the answer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
MAX_AGE = "600"
REST_EXPOSED = ("ETag", "Location", "Link", "Retry-After", "X-Request-Id")
MCP_EXPOSED = ("Mcp-Session-Id", "Mcp-Protocol-Version", "X-Request-Id", "WWW-Authenticate")


def _origin(value: str) -> str:
    """`scheme://host[:port]` as browsers send it: lower case, no path, no trailing slash."""
    return value.strip().rstrip("/").lower()


@dataclass(frozen=True)
class CorsPolicy:
    """Which origins may read answers (`*`: any, never with credentials), and which headers they see."""

    origins: frozenset[str] = frozenset()
    exposed: tuple[str, ...] = ()
    any_origin: bool = False

    @classmethod
    def of(cls, origins: Iterable[str], exposed: tuple[str, ...]) -> CorsPolicy:
        given = {_origin(o) for o in origins if o and o.strip()}
        return cls(frozenset(given - {"*"}), exposed, "*" in given)

    @property
    def enabled(self) -> bool:
        return self.any_origin or bool(self.origins)

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and origin != "null" and (self.any_origin or _origin(origin or "") in self.origins)

    def response_headers(self, origin: str) -> dict[str, str]:
        headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if self.exposed:
            headers["Access-Control-Expose-Headers"] = ", ".join(self.exposed)
        return headers

    def preflight_headers(self, origin: str, requested_headers: str | None) -> dict[str, str]:
        headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                   "Access-Control-Allow-Methods": METHODS, "Access-Control-Max-Age": MAX_AGE}
        if requested_headers:  # the origin is trusted: it may send the headers it asks for
            headers["Access-Control-Allow-Headers"] = requested_headers
        return headers


class CorsASGI:
    """The same policy in front of an ASGI app (the MCP endpoint and its health routes)."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if not self.policy.allows(origin):
            await self.app(scope, receive, send)
            return
        assert origin is not None
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            extra = self.policy.preflight_headers(origin, headers.get("access-control-request-headers"))
            await send({"type": "http.response.start", "status": 204,
                        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]})
            await send({"type": "http.response.body", "body": b""})
            return
        added = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.policy.response_headers(origin).items()]

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

