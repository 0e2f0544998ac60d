"""The reference engine's HTTP fixtures (src/test/resources/http, baseuri-trailing-slash), as its JUnit tests assert."""

from __future__ import annotations

import pytest

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .helpers import fixture, get_json, serve


async def test_http_body_templates_body_from_extracted_inputs(upstream: RecordingUpstream) -> None:
    """HttpBodyIntegrationTest: `$.user.id`/`$.user.name` taken from the incoming body fill the consumed body template."""
    upstream.route("POST", "/create", reply(json={"ok": True}))
    async with serve("http/http-body-capability.yaml", upstream.url) as served:
        status, _ = await get_json(served, "POST", served.rest_url("test-http-body") + "/users",
                                   json={"user": {"id": "123", "name": "Alice"}})
    [seen] = upstream.hits("POST", "/create")
    assert seen.json == {"id": "123", "name": "Alice"}
    assert status == 200


async def test_http_header_query_sets_namespace_header_and_query_from_body(upstream: RecordingUpstream) -> None:
    """HeaderQueryIntegrationTest: X-API-Key: ABC123 from the namespace's inputParameters, and q=999 (not "999")."""
    upstream.route("POST", "/items", reply(json={"items": []}))
    async with serve("http/http-header-query-capability.yaml", upstream.url) as served:
        await get_json(served, "POST", served.rest_url("test-http") + "/search", json={"user": {"id": "999"}})
    [seen] = upstream.hits("POST", "/items")
    assert seen.headers["X-API-Key"] == "ABC123"
    assert ("q", "999") in seen.query
    assert "%22" not in seen.query_string


async def test_http_forward_value_sends_namespace_value_headers(upstream: RecordingUpstream) -> None:
    """ForwardValueFieldTest: a forwarded request carries X-API-Version: 2026-03-03 and X-API-Key: secret-key-123."""
    upstream.route("GET", "/v1/test", reply(json={"ok": True}))
    async with serve("http/http-forward-value-capability.yaml", upstream.url) as served:
        status, _ = await get_json(served, "GET", served.rest_url("sample") + "/forward/test")
    [seen] = upstream.hits("GET")
    assert seen.headers["X-API-Version"] == "2026-03-03"
    assert seen.headers["X-API-Key"] == "secret-key-123"
    assert status == 200


@pytest.mark.deviation("a baseUri ending in '/' is accepted and joined with one '/'; the reference refuses the file")
def test_baseuri_trailing_slash_is_accepted_with_a_warning() -> None:
    """BaseUriTrailingSlashIntegrationTest refuses the file ('baseUri must not end with a trailing slash'). The runtime
    loads it (paths are joined with exactly one '/') and warns at validate, naming the file, line and column."""
    file = fixture("baseuri-trailing-slash-capability.yaml")
    result = load(file)
    assert result.ok, [str(d) for d in result.errors]
    [warning] = [d for d in result.warnings if "ends with '/'" in d.message]
    assert "refuses" in warning.message
    text = str(warning)
    assert text.startswith(f"{file}:") and "warning" in text
    line = int(text[len(str(file)) + 1 :].split(":")[0])
    assert "baseUri" in file.read_text().splitlines()[line - 1]
