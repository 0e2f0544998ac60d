"""`forward` resources: the pass-through to a consumed namespace, beyond what the reference fixtures show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from yarl import URL

from ..reference.helpers import Served, get_json, serve
from ..support.recording_upstream import RecordingUpstream, reply

CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {label: forwarder, description: pass-through proxy}
capability:
  consumes:
  - type: http
    namespace: backend
    baseUri: http://127.0.0.1:9/api
    authentication: {type: basic, username: proxy, password: upstream-secret-password}
    inputParameters:
    - {name: X-Version, in: header, value: "2026-01-01"}
    - {name: tenant, in: query, value: acme}
    resources:
    - name: status
      path: /status
      operations:
      - {name: get-status, method: GET}
  exposes:
  - type: rest
    namespace: proxy
    port: 8080
    resources:
    - path: /pass/{{path}}
      forward:
        targetNamespace: backend
        trustedHeaders: [X-Trace]
    - path: /mixed/{{rest}}
      forward: {targetNamespace: backend}
      operations:
      - method: GET
        call: backend.get-status
        outputParameters:
        - {type: object, properties: {mapped: {type: boolean, mapping: $.ok}}}
"""


@pytest.fixture
async def served(tmp_path: Path, upstream: RecordingUpstream) -> AsyncIterator[Served]:
    file = tmp_path / "forward.yaml"
    file.write_text(CAPABILITY)
    async with serve(str(file), upstream.url) as running:
        yield running


async def test_forward_passes_method_path_query_body_trusted_headers_only(served: Served, upstream: RecordingUpstream) -> None:
    upstream.route("POST", "/api/things/a%20b/items", reply(status=201, json={"created": True}, headers={"ETag": '"v1"'}))
    status, body = await get_json(
        served, "POST", served.rest_url("proxy") + "/pass/things/a%20b/items?limit=5&tenant=evil",
        json={"name": "x"}, headers={"X-Trace": "t-1", "X-Untrusted": "no", "X-Version": "caller", "Authorization": "Bearer caller"},
    )
    assert (status, body) == (201, {"created": True})
    [seen] = upstream.requests
    assert seen.json == {"name": "x"} and seen.headers["Content-Type"] == "application/json"
    assert ("limit", "5") in seen.query and ("tenant", "acme") in seen.query and ("tenant", "evil") not in seen.query
    assert seen.headers["X-Trace"] == "t-1" and "X-Untrusted" not in seen.headers
    assert seen.headers["X-Version"] == "2026-01-01"  # the declared value, never the caller's
    assert seen.headers["Authorization"].startswith("Basic ")


async def test_declared_operation_answers_before_the_forward(served: Served, upstream: RecordingUpstream) -> None:
    """As in the reference: an operation of the resource whose method matches answers; other methods forward."""
    upstream.route("GET", "/api/status", reply(json={"ok": True}))
    upstream.route("DELETE", "/api/x/1", reply(status=204))
    status, body = await get_json(served, "GET", served.rest_url("proxy") + "/mixed/anything")
    assert status == 200 and body == {"mapped": True}
    status, _ = await get_json(served, "DELETE", served.rest_url("proxy") + "/mixed/x/1")
    assert status == 204
    assert [(r.method, r.raw_path) for r in upstream.requests] == [("GET", "/api/status"), ("DELETE", "/api/x/1")]


async def test_upstream_errors_come_back_as_they_are(served: Served, upstream: RecordingUpstream) -> None:
    upstream.route("GET", "/api/echo", reply(status=403, body="refused", content_type="text/plain"))
    async with served.session.get(served.rest_url("proxy") + "/pass/echo") as response:
        assert response.status == 403 and await response.text() == "refused"
        assert response.content_type == "text/plain"


async def test_location_below_the_base_points_back_at_the_proxy(served: Served, upstream: RecordingUpstream) -> None:
    upstream.route("POST", "/api/things", reply(status=201, json={}, headers={"Location": f"{upstream.url}/api/things/7"}))
    async with served.session.post(served.rest_url("proxy") + "/pass/things", json={}) as response:
        assert response.status == 201
        assert response.headers["Location"] == "/pass/things/7"


@pytest.mark.parametrize("tail", ["/pass/../admin", "/pass/a/%2E%2E/admin"])
async def test_dot_segments_never_climb_above_the_base(served: Served, upstream: RecordingUpstream, tail: str) -> None:
    async with served.session.get(URL(served.rest_url("proxy") + tail, encoded=True)) as response:
        assert response.status in (400, 404)
    assert not upstream.requests


async def test_paths_outside_the_forward_are_not_found(served: Served, upstream: RecordingUpstream) -> None:
    status, _ = await get_json(served, "GET", served.rest_url("proxy") + "/elsewhere")
    assert status == 404 and not upstream.requests
