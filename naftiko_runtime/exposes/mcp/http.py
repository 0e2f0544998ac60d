"""Streamable HTTP for one MCP adapter: stateless JSON responses at `/mcp` and `/`.

Stateless, so any replica can answer any request; JSON responses, so a plain HTTP
client (or a proxy that buffers) works. The SDK's session manager negotiates every
protocol version it knows: the initialize handshake for 2024-11-05 .. 2025-11-25
and the per-request envelope of 2026-07-28.

In front of it, a small ASGI guard does what the SDK would otherwise answer with a
bare 421: it checks Host and Origin against loopback names and this machine's
hostname on the bound port plus `--allowed-host` values, and says which flag to pass
when it refuses (and refuses two `Host` headers, or an unknown `MCP-Protocol-Version`,
with 400). Then the adapter's `authentication` (401 + `WWW-Authenticate`), then the
body: strict JSON (no NaN/Infinity, bounded nesting: -32700) whose requests carry a
string or integer id and say `"jsonrpc": "2.0"` (-32600), as the SDK would otherwise accept, quietly drop,
or answer them with a validation error.
Health routes sit outside both, as probes use the pod IP as Host. A stateless server
offers no standalone SSE stream, so `GET /mcp` answers 405 (as the MCP spec allows)
rather than opening a stream that would never end.

Below the app, uvicorn runs `BoundedHttpToolsProtocol`: header size, read timeouts,
keep-alive and the connection cap of `ConnectionLimits`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import uvicorn
from mcp.server.streamable_http_manager import (
    StreamableHTTPASGIApp,
    StreamableHTTPSessionManager,
)
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import INVALID_REQUEST, PARSE_ERROR
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ... import jsonfast
from ...capability.model import McpAdapter
from ...invoke.client import FORWARDED_HEADERS
from ...invoke.invoker import Invoker
from ...limits import DEFAULT_MAX_BODY, ConnectionLimits
from ...logs import LOGGER
from ...tracing import AsgiContext
from ..auth import Credentials
from ..cors import MCP_EXPOSED, CorsASGI, CorsPolicy
from ..headers import header_values, repeated_host
from ..headers import request_id as safe_request_id
from ..health import Readiness, starlette_routes
from .fastpath import ToolCallFastPath, is_json, with_fast_path
from .protocol import BoundedHttpToolsProtocol
from .server import CURRENT_HEADERS, CURRENT_REQUEST_ID, McpService, ServiceSlot, register_handlers, sdk_server

WILDCARD_BINDS = ("", "0.0.0.0", "::", "[::]")


def _json_error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


def _jsonrpc_error(code: int, message: str) -> Response:
    """The SDK's own shape for a message it cannot take: HTTP 400, a JSON-RPC error with a null id."""
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}, status_code=400)


def _valid_id(value: object) -> bool:
    return type(value) is str or type(value) is int


def body_problem(body: bytes) -> Response | None:
    """A JSON-RPC body the SDK would mishandle: not strict JSON, or a request whose id is not a string or integer."""
    try:
        message = jsonfast.loads(body, strict=True)
    except ValueError as exc:
        return _jsonrpc_error(PARSE_ERROR, f"Parse error: {str(exc.args[0] if exc.args else exc)[:200]}")
    for item in message if isinstance(message, list) else [message]:
        if isinstance(item, dict) and item.get("jsonrpc") != "2.0":
            return _jsonrpc_error(INVALID_REQUEST, 'Invalid Request: \'jsonrpc\' must be "2.0"')
        if isinstance(item, dict) and "method" in item and "id" in item and not _valid_id(item["id"]):
            return _jsonrpc_error(INVALID_REQUEST, "Invalid Request: a request id must be a string or an integer")
    return None


@dataclass(frozen=True)
class HostPolicy:
    """Which Host/Origin authorities may reach the MCP endpoint (DNS-rebinding protection)."""

    exact: frozenset[str]
    any_port: frozenset[str]
    allow_all: bool = False

    @classmethod
    def for_port(cls, host: str, port: int, extra: list[str]) -> HostPolicy:
        names = {"127.0.0.1", "localhost", "[::1]"}
        with contextlib.suppress(OSError):
            names.update({socket.gethostname(), socket.getfqdn()})
        if host not in WILDCARD_BINDS:
            names.add(f"[{host}]" if ":" in host and not host.startswith("[") else host)
        exact = {n.lower() for n in names} | {f"{n.lower()}:{port}" for n in names}
        any_port: set[str] = set()
        allow_all = False
        for item in extra:
            for value in (v.strip().lower() for v in item.split(",")):
                if value == "*":
                    allow_all = True
                elif value:
                    authority = urlsplit(value).netloc if "://" in value else value
                    if authority.endswith(":*"):
                        any_port.add(authority[:-2])
                    elif _has_port(authority):
                        exact.add(authority)
                    else:
                        any_port.add(authority)
        return cls(frozenset(exact), frozenset(any_port), allow_all)

    def allows(self, authority: str) -> bool:
        authority = authority.lower()
        if self.allow_all or authority in self.exact:
            return True
        name = authority.rsplit(":", 1)[0] if _has_port(authority) else authority
        return name in self.any_port

    def describe(self) -> str:
        return ", ".join(sorted(self.exact | {f"{n}:*" for n in self.any_port}))


def _has_port(authority: str) -> bool:
    return authority.rsplit(":", 1)[-1].isdigit() and (":" in authority) and not authority.endswith("]")


class McpGuard:
    """Host/Origin check, then the adapter's authentication, the body limit, then the SDK's transport.

    Each request gets a request id (its `X-Request-Id`, else a new one), returned in the
    response headers and seen by tool calls (which pass it upstream) through a context
    variable; its W3C `traceparent` becomes the current trace context when tracing is on.
    """

    def __init__(self, app: ASGIApp, policy: HostPolicy, credentials: Credentials | None, max_body: int = DEFAULT_MAX_BODY,
                 cors: CorsPolicy | None = None) -> None:
        self.app = app
        self.policy = policy
        self.cors = cors or CorsPolicy()  # a `--cors-origin` is an Origin this endpoint accepts
        self.credentials = credentials
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(headers, scope)
        if refusal is None and scope.get("method") == "GET":
            refusal = _json_error(
                405, "method_not_allowed", "this stateless MCP server offers no standalone SSE stream; POST JSON-RPC messages",
                {"Allow": "POST"},
            )
        if refusal is None and scope.get("method") == "POST":
            refusal, receive = await self.read_body(headers, receive)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        given = header_values(scope["headers"], b"x-request-id")
        request_id = safe_request_id(given[0] if given else None)
        raw_id = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", raw_id)]}
            await send(message)

        token = CURRENT_REQUEST_ID.set(request_id)
        forwarded = CURRENT_HEADERS.set({k: v for k in FORWARDED_HEADERS if (v := headers.get(k))})
        try:
            with AsgiContext(headers):
                await self.app(scope, receive, send_with_id)
        finally:
            CURRENT_HEADERS.reset(forwarded)
            CURRENT_REQUEST_ID.reset(token)

    async def read_body(self, headers: Headers, receive: Receive) -> tuple[Response | None, Receive]:
        """Read the body (MCP messages are small) so that one over `max_body` is refused with 413."""
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            return self.too_large(), receive
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None, _replay([message])
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return self.too_large(), receive
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = body_problem(body) if body and is_json(headers.get("content-type", "").encode("latin-1")) else None
        return problem, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)

    def too_large(self) -> Response:
        return _json_error(413, "payload_too_large", f"request body exceeds the {self.max_body}-byte limit (--max-body)")

    def refusal(self, headers: Headers, scope: Scope) -> Response | None:
        if repeated_host(scope["headers"]):
            LOGGER.warning("mcp: refused a request with more than one Host header")
            return _json_error(400, "invalid_request", "more than one Host header")
        version = headers.get("mcp-protocol-version")
        if version is not None and version not in KNOWN_PROTOCOL_VERSIONS:
            return _jsonrpc_error(
                INVALID_REQUEST,
                f"Bad Request: unsupported MCP-Protocol-Version '{version[:40]}'; supported: {', '.join(KNOWN_PROTOCOL_VERSIONS)}",
            )
        query_string: bytes = scope.get("query_string", b"")
        host = headers.get("host")
        if host and not self.policy.allows(host):
            LOGGER.warning("mcp: refused Host", extra={"host": host})
            return _json_error(
                421, "misdirected_request",
                f"Host '{host}' is not served here (DNS-rebinding protection); allowed: {self.policy.describe()}. "
                f"Start naftiko with --allowed-host {host.rsplit(':', 1)[0] if _has_port(host) else host} to accept it.",
            )
        origin = headers.get("origin")
        if origin and origin != "null" and not self.cors.allows(origin) and not self.policy.allows(urlsplit(origin).netloc or origin):
            LOGGER.warning("mcp: refused Origin", extra={"origin": origin})
            return _json_error(
                403, "forbidden_origin",
                f"Origin '{origin}' may not call this MCP endpoint; start naftiko with --allowed-host {urlsplit(origin).hostname or origin} to accept it.",
            )
        creds = self.credentials
        if creds is not None:
            query = dict(parse_qsl(query_string.decode("latin-1")))
            if not creds.check(headers, query):
                return _json_error(401, "unauthorized", "missing or invalid credentials", {"WWW-Authenticate": creds.challenge})
        return None


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A `receive` that first gives back what was already read, then waits on the original one."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


def build_http_app(
    manager: StreamableHTTPSessionManager,
    service: McpService,
    readiness: Readiness,
    policy: HostPolicy,
    credentials: Credentials | None,
    max_body: int = DEFAULT_MAX_BODY,
    cors: CorsPolicy | None = None,
) -> Starlette:
    """Health routes, then the guarded MCP endpoint at `/mcp` and `/`. The manager is run by the caller."""
    endpoint = McpGuard(with_fast_path(StreamableHTTPASGIApp(manager), manager, service), policy, credentials, max_body, cors)
    app = Starlette(routes=[*starlette_routes(readiness), Route("/mcp", endpoint), Route("/", endpoint)])
    app.state.guard = endpoint
    return app


def session_manager(slot: ServiceSlot) -> StreamableHTTPSessionManager:
    # Host/Origin are checked by McpGuard (with an explanation); the SDK still checks Content-Type.
    return StreamableHTTPSessionManager(
        app=sdk_server(slot),
        json_response=True,
        stateless=True,
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """Bind before serving, so a taken port is a clean OSError here and not a `sys.exit` in uvicorn."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(2048)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our loop: the runtime owns SIGINT/SIGTERM, so uvicorn must not take them."""

    manager: StreamableHTTPSessionManager | None = None
    guard: McpGuard | None = None
    slot: ServiceSlot | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def swap_mcp(server: uvicorn.Server, adapter: McpAdapter, invoker: Invoker) -> None:
    """`--watch`: serve a reloaded adapter on the running server (each stateless request uses the current one)."""
    assert isinstance(server, _EmbeddedServer) and server.manager is not None and server.guard is not None
    assert server.slot is not None
    service = McpService(adapter, invoker)
    server.slot.service = service
    register_handlers(server.manager.app, server.slot)  # requests the reloaded file answers that the old one did not
    inner = server.guard.app
    if isinstance(inner, ToolCallFastPath):  # a front that answers tool calls itself
        inner.service = service
    server.guard.credentials = Credentials.from_spec(adapter.auth, invoker.bind_context)


async def serve_mcp_http(
    adapter: McpAdapter,
    invoker: Invoker,
    host: str,
    port: int,
    *,
    readiness: Readiness,
    allowed_hosts: list[str],
    max_body: int = DEFAULT_MAX_BODY,
    shutdown_grace: float = 10.0,
    limits: ConnectionLimits | None = None,
    cors_origins: list[str] | None = None,
) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    """Start serving; returns the uvicorn server (set `.should_exit` to stop), its task and the bound port."""
    sock = bind_socket(host, port, reuse_port=limits.reuse_port if limits is not None else False)
    bound = sock.getsockname()[1]
    credentials = Credentials.from_spec(adapter.auth, invoker.bind_context)
    if adapter.auth is not None and credentials is None:
        LOGGER.warning("mcp: authentication type is not enforced locally", extra={"adapter": adapter.namespace, "type": adapter.auth.type})
    service = McpService(adapter, invoker)
    slot = ServiceSlot(service)
    manager = session_manager(slot)
    cors = CorsPolicy.of(cors_origins or [], MCP_EXPOSED)
    app = build_http_app(manager, service, readiness, HostPolicy.for_port(host, bound, allowed_hosts), credentials, max_body, cors)
    front: ASGIApp = CorsASGI(app, cors) if cors.enabled else app  # preflights are answered before the guard
    limits = limits or ConnectionLimits()
    # ws="none": MCP over HTTP has no WebSocket; uvicorn's "auto" would import wsproto or websockets at load.
    config = uvicorn.Config(front, lifespan="off", log_config=None, access_log=False, server_header=False, ws="none",
                            timeout_graceful_shutdown=max(1, round(shutdown_grace)),
                            # uvicorn's annotations are narrower than what it accepts: any protocol
                            # factory, and a float keep-alive (it is passed to loop.call_later)
                            http=functools.partial(BoundedHttpToolsProtocol, limits=limits),  # type: ignore[arg-type]
                            timeout_keep_alive=limits.keepalive_timeout)  # type: ignore[arg-type]
    server = _EmbeddedServer(config)
    server.manager, server.guard, server.slot = manager, app.state.guard, slot

    async def run() -> None:
        try:
            async with manager.run():
                await server.serve(sockets=[sock])
        finally:
            sock.close()

    task = asyncio.create_task(run(), name=f"mcp {adapter.namespace}")
    return server, task, bound
