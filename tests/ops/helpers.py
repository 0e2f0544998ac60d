"""Shared pieces of the operating tests: a capability with secrets, and an upstream that misbehaves on purpose."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "tok-0p5-Zq81xW"  # bound from OPS_TOKEN, sent as a bearer token
API_KEY = "key/0p5+Q&x=1"  # bound from OPS_KEY, sent in the query (URL-encoded on the wire)
SECRET_ENV = {"OPS_TOKEN": TOKEN, "OPS_KEY": API_KEY}

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: Ops, description: A capability to operate.}
binds:
- namespace: env
  keys: {OPS_TOKEN: OPS_TOKEN, OPS_KEY: OPS_KEY}
capability:
  consumes:
  - type: http
    namespace: svc
    baseUri: http://127.0.0.1:9
    authentication: {type: bearer, token: "{{OPS_TOKEN}}"}
    resources:
    - {name: echo, path: /echo, operations: [{name: get-echo, method: GET}]}
    - {name: echo-error, path: /echo-error, operations: [{name: get-echo-error, method: GET}]}
    - {name: slow, path: /slow/wait, operations: [{name: get-slow, method: GET}]}
    - {name: flaky, path: /flaky, operations: [{name: get-flaky, method: GET}]}
    - {name: items, path: /items, operations: [{name: post-items, method: POST}]}
  - type: http
    namespace: keyed
    baseUri: http://127.0.0.1:9
    authentication: {type: apikey, key: api_key, value: "{{OPS_KEY}}", placement: query}
    resources:
    - {name: keyed-error, path: /echo-error, operations: [{name: get-keyed-error, method: GET}]}
  exposes:
  - type: rest
    namespace: ops
    port: 8080
    resources:
    - path: /echo
      operations: [{method: GET, name: echo, call: svc.get-echo}]
    - path: /echo-error
      operations: [{method: GET, name: echo-error, call: svc.get-echo-error}]
    - path: /keyed-error
      operations: [{method: GET, name: keyed-error, call: keyed.get-keyed-error}]
    - path: /slow
      operations: [{method: GET, name: slow, call: svc.get-slow}]
    - path: /flaky
      operations: [{method: GET, name: flaky, call: svc.get-flaky}]
    - path: /items
      operations: [{method: POST, name: post-items, call: svc.post-items}]
  - type: mcp
    namespace: ops-tools
    port: 3000
    tools:
    - {name: echo, description: Echo., call: svc.get-echo}
    - {name: echo-error, description: An upstream error that echoes the token., call: svc.get-echo-error}
    - {name: keyed-error, description: An upstream error that echoes the query key., call: keyed.get-keyed-error}
    - {name: slow, description: Held by the upstream until released., call: svc.get-slow}
"""


class OpsUpstream:
    """A threaded stdlib upstream on loopback.

    - `/echo*`: 200 echoing method, path and headers (under `/echo-error`: 401, and the
      message repeats the Authorization header and the query string, as careless APIs do);
    - `/slow/*`: waits until `release()`; `in_slow` counts the requests waiting;
    - `/flaky`: 503 for the first `flaky_failures` requests, then 200.
    """

    def __init__(self, flaky_failures: int = 2) -> None:
        self.requests: list[dict[str, Any]] = []
        self.flaky_failures = flaky_failures
        self.in_slow = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with outer._lock:
                    outer.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
                path, _, query = self.path.partition("?")
                if path.startswith("/slow/"):
                    with outer._lock:
                        outer.in_slow += 1
                    outer._release.wait(30)
                    with outer._lock:
                        outer.in_slow -= 1
                if path == "/echo-error":
                    auth = self.headers.get("Authorization")
                    self._send(401, {"message": f"credentials {auth} rejected for ?{query}",
                                     "echo": {"authorization": auth, "query": query}})
                    return
                if path == "/flaky":
                    with outer._lock:
                        flaky = sum(1 for r in outer.requests if r["path"].startswith("/flaky"))
                    if flaky <= outer.flaky_failures:
                        self._send(503, {"message": "try again"})
                        return
                self._send(200, {"method": self.command, "path": path, "request_id": self.headers.get("X-Request-Id")})

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def release(self) -> None:
        self._release.set()

    def __enter__(self) -> "OpsUpstream":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def mcp_call(url: str, tool: str, arguments: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             timeout: float = 30) -> tuple[int, dict[str, str], Any]:
    """One stateless MCP tools/call over plain HTTP (JSON response mode)."""
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments or {}}}
    hdrs = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18", **(headers or {})}
    req = urllib.request.Request(url, data=json.dumps(message).encode(), method="POST", headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, dict(exc.headers), json.loads(raw) if raw else None


def metric_samples(url: str) -> dict[str, list[Any]]:
    """GET /metrics and parse it with the Prometheus client's parser: family name -> samples."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    out: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        out.setdefault(family.name, []).extend(family.samples)
    return out
