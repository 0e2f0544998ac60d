"""A hostile upstream (stdlib, threaded, loopback port 0) and the capability that consumes it.

The upstream redirects (to itself, to an internal path, to another origin), echoes the
credentials it was sent in bodies and in `Location`, answers errors in foreign shapes, and
records every request so tests can see what was forwarded.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

TOKEN = "tok-Hz81-upstream-side"
KEY = "hk-Sec7Rq2-upstream-side"
USER, PASSWORD = "svc-user", "pw-9Lk2-upstream-side"
SECRET_ENV = {"HOSTILE_TOKEN": TOKEN, "HOSTILE_KEY": KEY, "HOSTILE_USER": USER, "HOSTILE_PASS": PASSWORD}
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()  # as it travels in Authorization
SECRETS = (TOKEN, KEY, PASSWORD, BASIC)

FOREIGN_A = {"error": "bad_request", "status": 400, "data": {"field": "name"}, "code": "E_NAME"}
FOREIGN_B = {"code": 400, "message": "name is required", "content": None}

_CONSUMED = """\
    resources:
    - {name: item, path: "/items/{{id}}", operations: [{name: get-item, method: GET}]}
    - {name: redirect-same, path: /redirect/same, operations: [{name: get-redirect-same, method: GET}]}
    - {name: redirect-internal, path: /redirect/internal, operations: [{name: get-redirect-internal, method: GET}]}
    - {name: redirect-away, path: /redirect/away, operations: [{name: get-redirect-away, method: GET}]}
    - {name: created, path: /created, operations: [{name: post-created, method: POST}]}
    - {name: foreign-a, path: /foreign/a, operations: [{name: get-foreign-a, method: GET}]}
    - {name: foreign-b, path: /foreign/b, operations: [{name: get-foreign-b, method: GET}]}
    - {name: echo-error, path: /echo-error, operations: [{name: get-echo-error, method: GET}]}
    - {name: echo-text, path: /echo-text, operations: [{name: get-echo-text, method: GET}]}
    - {name: writes, path: /writes, operations: [{name: post-write, method: POST, inputParameters: [{name: Idempotency-Key, in: header}]}]}
    - {name: malformed, path: /malformed, operations: [{name: get-malformed, method: GET}]}
    - {name: flaky-writes, path: /flaky-writes, operations: [{name: post-flaky-write, method: POST}]}
"""

CAPABILITY = f"""\
naftiko: 1.0.0-alpha2
info: {{label: Hostile, description: An upstream that attacks the runtime from its side.}}
binds:
- namespace: env
  keys: {{HOSTILE_TOKEN: HOSTILE_TOKEN, HOSTILE_KEY: HOSTILE_KEY, HOSTILE_USER: HOSTILE_USER, HOSTILE_PASS: HOSTILE_PASS}}
capability:
  consumes:
  - type: http
    namespace: keyed
    baseUri: http://127.0.0.1:9
    authentication: {{type: apikey, key: api_key, value: "{{{{HOSTILE_KEY}}}}", placement: query}}
{_CONSUMED}
  - type: http
    namespace: bearer
    baseUri: http://127.0.0.1:9
    authentication: {{type: bearer, token: "{{{{HOSTILE_TOKEN}}}}"}}
{_CONSUMED}
  - type: http
    namespace: basic
    baseUri: http://127.0.0.1:9
    authentication: {{type: basic, username: "{{{{HOSTILE_USER}}}}", password: "{{{{HOSTILE_PASS}}}}"}}
{_CONSUMED}
  exposes:
  - type: rest
    namespace: hostile
    port: 8080
    resources:
    - path: /items/{{id}}
      operations: [{{method: GET, name: get-item, call: keyed.get-item}}]
    - path: /redirect/same
      operations: [{{method: GET, name: redirect-same, call: keyed.get-redirect-same}}]
    - path: /redirect/internal
      operations: [{{method: GET, name: redirect-internal, call: keyed.get-redirect-internal}}]
    - path: /redirect/away
      operations: [{{method: GET, name: redirect-away, call: keyed.get-redirect-away}}]
    - path: /created
      operations: [{{method: POST, name: created, call: keyed.post-created}}]
    - path: /foreign/a
      operations: [{{method: GET, name: foreign-a, call: keyed.get-foreign-a}}]
    - path: /foreign/b
      operations: [{{method: GET, name: foreign-b, call: keyed.get-foreign-b}}]
    - path: /writes
      operations: [{{method: POST, name: write, call: keyed.post-write}}]
    - path: /flaky-writes
      operations: [{{method: POST, name: flaky-write, call: keyed.post-flaky-write}}]
  - type: mcp
    namespace: hostile-tools
    port: 3000
    tools:
    - {{name: redirect-same, description: A redirect to itself., call: keyed.get-redirect-same}}
    - {{name: redirect-away, description: A redirect elsewhere., call: keyed.get-redirect-away}}
    - {{name: write, description: A write., call: keyed.post-write}}
    - {{name: keyed-echo-error, description: Echoes the key., call: keyed.get-echo-error}}
    - {{name: keyed-echo-text, description: Echoes the key as text., call: keyed.get-echo-text}}
    - {{name: keyed-redirect, description: Redirects with the key., call: keyed.get-redirect-same}}
    - {{name: bearer-echo-error, description: Echoes the token., call: bearer.get-echo-error}}
    - {{name: bearer-echo-text, description: Echoes the token as text., call: bearer.get-echo-text}}
    - {{name: bearer-redirect, description: Redirects with the token., call: bearer.get-redirect-same}}
    - {{name: basic-echo-error, description: Echoes the Basic credential., call: basic.get-echo-error}}
    - {{name: basic-echo-text, description: Echoes the Basic credential as text., call: basic.get-echo-text}}
    - {{name: basic-redirect, description: Redirects with the Basic credential., call: basic.get-redirect-same}}
    - {{name: keyed-malformed, description: An answer that cannot be parsed., call: keyed.get-malformed}}
    - {{name: bearer-malformed, description: An answer that cannot be parsed., call: bearer.get-malformed}}
    - {{name: basic-malformed, description: An answer that cannot be parsed., call: basic.get-malformed}}
"""


class HostileUpstream:
    """See the module docstring. `away` is the URL of another origin redirects may point to."""

    def __init__(self, away: str = "http://elsewhere.invalid") -> None:
        self.requests: list[dict[str, Any]] = []
        self.away = away
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, body: bytes = b"", ctype: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                self._send(status, json.dumps(payload).encode(), headers=headers)

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with outer._lock:
                    outer.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
                path, _, query = self.path.partition("?")
                auth = self.headers.get("Authorization") or ""
                me = outer.url
                if path == "/redirect/same":  # to itself, carrying what it was sent
                    self._send(302, headers={"Location": f"{me}/items/42?{query}&auth={auth.replace(' ', '+')}"})
                elif path == "/redirect/internal":
                    self._send(307, headers={"Location": f"{me}/internal/admin?{query}"})
                elif path == "/redirect/away":
                    self._send(302, headers={"Location": f"{outer.away}/steal?{query}"})
                elif path == "/malformed":  # a response aiohttp cannot parse: its error names the URL
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n{}")
                    self.close_connection = True
                elif path == "/created":
                    self._json(201, {"id": "7"}, headers={"Location": f"{me}/items/7"})
                elif path == "/foreign/a":
                    self._json(400, FOREIGN_A)
                elif path == "/foreign/b":
                    self._json(400, FOREIGN_B)
                elif path == "/echo-error":
                    self._json(401, {"message": f"credentials {auth} rejected for {self.path}", "echo": {"auth": auth}})
                elif path == "/echo-text":
                    self._send(500, f"oops: {auth} {self.path}".encode(), ctype="text/plain")
                elif path.startswith("/items/"):
                    self._json(200, {"id": path.rsplit("/", 1)[1]})
                elif path == "/flaky-writes":  # every odd request fails as a gateway would
                    with outer._lock:
                        seen = sum(1 for r in outer.requests if r["path"].startswith("/flaky-writes"))
                    if seen % 2:
                        self._json(503, {"message": "try again"})
                    else:
                        self._json(201, {"idempotency_key": self.headers.get("Idempotency-Key")})
                elif path == "/writes":
                    self._json(201, {"idempotency_key": self.headers.get("Idempotency-Key"), "if_match": self.headers.get("If-Match")})
                else:
                    self._json(404, {"message": "no such route"})

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forget(self, prefix: str) -> None:
        """Drop the recorded requests under `prefix`: a counting route (/flaky-writes) starts afresh."""
        with self._lock:
            self.requests[:] = [r for r in self.requests if not r["path"].startswith(prefix)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def raw_request(url: str, method: str = "GET", body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """One HTTP exchange that does not follow redirects; the JSON body, text, or None."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=data, headers=hdrs)
        response = conn.getresponse()
        raw = response.read()
        status, rh = response.status, {k: v for k, v in response.getheaders()}
    finally:
        conn.close()
    if not raw:
        return status, rh, None
    try:
        return status, rh, json.loads(raw)
    except ValueError:
        return status, rh, raw.decode("utf-8", "replace")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked in: {text[:600]}"
