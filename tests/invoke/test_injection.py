"""Caller values never escape their place: a path value is one segment, a header value one header."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from naftiko_runtime.errors import InputError

from ..conftest import HTTP_CLIENTS
from ..support.recording_upstream import reply
from .conftest import SEEDED_DIR, load_capability
from .helpers import mcp_incoming, rest_action, rest_incoming, tool


@pytest.fixture(params=HTTP_CLIENTS)
def http_client(request: pytest.FixtureRequest) -> str:
    """Overrides the suite's aiohttp-only fixture: the upstream sees the same raw path and headers over either client."""
    return str(request.param)

EVENT = SEEDED_DIR / "humanitec-event.yaml"
PREFIX = "/orgs/acme/apps/shop/webhooks/"

# value -> the exact raw segment the upstream must see
HOSTILE = {
    "a/b": "a%2Fb",
    "..": "%2E%2E",
    ".": "%2E",
    "../jobs": "..%2Fjobs",
    "../../../../admin": "..%2F..%2F..%2F..%2Fadmin",
    "x?force=true": "x%3Fforce%3Dtrue",
    "x#frag": "x%23frag",
    "%2F": "%252F",
    "..%2Fjobs": "..%252Fjobs",
    "%2E%2E": "%252E%252E",
    "wh\r\nX-Injected: 1": "wh%0D%0AX-Injected%3A%201",
    "wh\nGET /admin HTTP/1.1": "wh%0AGET%20%2Fadmin%20HTTP%2F1.1",
    "a\\b": "a%5Cb",
    "{{jobId}}": "%7B%7BjobId%7D%7D",
    "caf\u00e9 \u2603": "caf%C3%A9%20%E2%98%83",
    "a;b=c": "a%3Bb%3Dc",
    "\x00": "%00",
}

DECOYS = [("DELETE", "/orgs/acme/apps/shop/jobs"), ("GET", "/admin"), ("DELETE", "/orgs/acme/apps/shop/webhooks")]


@pytest.mark.parametrize("value", list(HOSTILE), ids=[repr(v) for v in HOSTILE])
@pytest.mark.parametrize("via", ["mcp", "rest"])
async def test_path_value_stays_one_segment(value: str, via: str, upstream: Any, make_invoker: Any) -> None:
    segment = HOSTILE[value]
    upstream.route("DELETE", PREFIX + segment, reply(204))
    for method, path in DECOYS:
        upstream.route(method, path, reply(500, json={"error": "decoy hit"}))
    cap = load_capability(EVENT)
    if via == "mcp":
        action, incoming = tool(cap, "delete-webhook"), mcp_incoming({"orgId": "acme", "appId": "shop", "jobId": value})
    else:
        action = rest_action(cap, "DELETE", "/v1/orgs/{orgid}/apps/{appid}/webhooks/{jobid}")
        incoming = rest_incoming({"orgid": "acme", "appid": "shop", "jobid": value})
    outcome = await make_invoker(cap).invoke(action, incoming)

    [seen] = upstream.requests
    assert seen.method == "DELETE"
    assert seen.raw_path == PREFIX + segment
    assert seen.query_string == ""
    assert unquote(seen.raw_path[len(PREFIX):]) == value
    assert "X-Injected" not in seen.headers
    assert outcome.status == 204


@pytest.mark.parametrize("value", ["acme/apps/other", "..", "acme?x=1"])
async def test_every_placeholder_is_encoded_not_just_the_last(value: str, upstream: Any, make_invoker: Any) -> None:
    cap = load_capability(EVENT)
    await make_invoker(cap).invoke(tool(cap, "list-events"), mcp_incoming({"orgId": value}))
    [seen] = upstream.requests
    assert seen.raw_path.count("/") == 3 and seen.raw_path.endswith("/events")
    assert unquote(seen.raw_path.split("/")[2]) == value


HEADER_CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: headers, description: header values from callers}
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: https://upstream.invalid
      resources:
        - name: things
          path: /things
          operations:
            - name: list
              method: GET
              inputParameters:
                - name: X-Trace
                  in: header
                  value: '{{trace}}'
                - name: X-Tenant
                  in: header
                - name: sid
                  in: cookie
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - name: list-things
          description: List things
          call: up.list
"""


@pytest.mark.parametrize("field", ["trace", "X-Tenant"])
@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nX-Injected: 1", "a\rb", "a\x00b"])
async def test_header_value_with_line_breaks_is_refused(field: str, value: str, upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(HEADER_CAPABILITY)
    with pytest.raises(InputError) as caught:
        await make_invoker(cap).invoke(tool(cap, "list-things"), mcp_incoming({field: value}))
    assert caught.value.status == 400
    assert upstream.requests == []


async def test_plain_header_and_cookie_values_are_sent(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(HEADER_CAPABILITY)
    upstream.route("GET", "/things", reply(json=[]))
    await make_invoker(cap).invoke(tool(cap, "list-things"), mcp_incoming({"trace": "t-1 ok", "X-Tenant": "blue", "sid": "a; b=c\r\n"}))
    [seen] = upstream.requests
    assert seen.headers["X-Trace"] == "t-1 ok"
    assert seen.headers["X-Tenant"] == "blue"
    assert seen.headers["Cookie"] == "sid=a%3B%20b%3Dc%0D%0A"
    assert "X-Injected" not in seen.headers


async def test_query_values_cannot_add_parameters(upstream: Any, make_invoker: Any) -> None:
    cap = load_capability(SEEDED_DIR / "humanitec-pipelineruns.yaml")
    incoming = mcp_incoming({"orgId": "acme", "appId": "shop", "dry_run": "true&admin=1#x", "body": {}})
    await make_invoker(cap).invoke(tool(cap, "create-pipeline-run-appropriate-pipeline"), incoming)
    [seen] = upstream.requests
    assert seen.query == [("dry_run", "true&admin=1#x")]
