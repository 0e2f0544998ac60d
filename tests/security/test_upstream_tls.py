"""An HTTPS upstream is trusted the same way over either upstream HTTP client: a certificate from a
CA the system does not trust is refused (502), and one trusted through `SSL_CERT_FILE` is accepted.

A subprocess: the trust store is read from the process's environment when its client starts.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.conftest import HTTP_CLIENTS
from tests.support.runtime import request, start_process

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: TLS upstream, description: One operation on an HTTPS upstream.}
capability:
  consumes:
  - type: http
    namespace: secure
    baseUri: https://localhost:{port}
    resources:
    - {name: thing, path: /thing, operations: [{name: get-thing, method: GET}]}
  exposes:
  - type: rest
    namespace: tls
    port: 8080
    resources:
    - path: /thing
      operations: [{method: GET, name: get-thing, call: secure.get-thing}]
"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps({"over": "tls"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_upstream(ca: trustme.CA) -> Iterator[int]:
    """An HTTPS server on loopback port 0 with a `localhost` certificate from `ca`; yields its port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted-ca", "unknown-ca"])
@pytest.mark.parametrize("client", HTTP_CLIENTS)
def test_the_upstream_certificate_is_checked_alike(client: str, trusted: bool, ca: trustme.CA, tls_upstream: int,
                                                   tmp_path: Path) -> None:
    file = tmp_path / "tls.yaml"
    file.write_text(CAPABILITY.replace("{port}", str(tls_upstream)))
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    env = {"NAFTIKO_HTTP_CLIENT": client}
    if trusted:  # the system's trust store, as OpenSSL (aiohttp) and rustls' platform verifier (pyreqwest) both read it
        env["SSL_CERT_FILE"] = str(ca_file)
    runtime = start_process(file, log=tmp_path / "run.log", env=env)
    try:
        status, _, body = request("GET", f"{runtime.rest}/thing")
    finally:
        runtime.stop()
    if trusted:
        assert (status, body) == (200, {"over": "tls"})
    else:
        assert status == 502, body
        assert body["error"] == "upstream_unreachable"
        assert "certificate" in body["message"].lower() or "issuer" in body["message"].lower(), body["message"]
