"""A stdlib HTTP upstream in a thread, for tests that drive a runtime subprocess."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ThreadedUpstream:
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
        self.arrived = threading.Event()
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
                outer.arrived.set()
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
                self._send(200, {"method": self.command, "path": path, "target": self.path,
                                 "auth": self.headers.get("Authorization"), "request_id": self.headers.get("X-Request-Id")})

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

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

    def __enter__(self) -> "ThreadedUpstream":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
