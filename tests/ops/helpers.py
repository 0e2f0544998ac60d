"""Shared pieces of the operating tests: a capability with secrets, and an upstream that misbehaves on purpose."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.support.threaded_upstream import ThreadedUpstream

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


OpsUpstream = ThreadedUpstream


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
