"""Base URIs of every form real files use: one placeholder, an origin that does not parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {{label: Bases, description: Base URIs real files use.}}
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: '{base}'
    resources:
    - name: mappings
      path: /mappings
      operations:
      - {{name: list, method: GET}}
  exposes:
  - type: rest
    port: 8080
    namespace: up-rest
    resources:
    - path: /mappings
      operations:
      - {{method: GET, name: list, call: up.list}}
  - type: mcp
    port: 9090
    namespace: up-mcp
    tools:
    - {{name: list, description: The mappings., call: up.list}}
"""


def _write(tmp_path: Path, base: str) -> Path:
    file = tmp_path / "bases.yaml"
    file.write_text(FILE.format(base=base))
    return file


async def test_a_base_uri_that_is_one_placeholder_is_replaced_wholly_by_upstream(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = _write(tmp_path, "{{env.WIREMOCK_BASE_URL}}")
    upstream.route("GET", "/__admin/mappings", reply(json=[]))
    async with serve(file, {"*": upstream.url + "/__admin"}) as served:
        status, text = await served.call("GET", served.rest("up-rest") + "/mappings")
    assert status == 200, text
    upstream.route("GET", "/mappings", reply(json=[]))
    async with serve(file, {"*": upstream.url}) as served:
        status, text = await served.call("GET", served.rest("up-rest") + "/mappings")
    assert status == 200, text
    assert [r.raw_path for r in upstream.requests] == ["/__admin/mappings", "/mappings"]


@pytest.mark.parametrize(("base", "sent"), [
    ("https://[array]/api/2.26", "/api/2.26/mappings"),            # an origin that does not parse
    ("{{env.SERVICE_URL}}/api/58", "/api/58/mappings"),            # a placeholder origin
    ("{scheme}://{host}/api/v9", "/api/v9/mappings"),              # scheme and host placeholders
    ("{GATEWAY_URL}/v2", "/v2/mappings"),                          # single braces
    ("//api.example.com/media/v", "/media/v/mappings"),            # scheme-relative
    ("blpapi+session://localhost/v1", "/v1/mappings"),             # another scheme
])
async def test_upstream_replaces_the_origin_and_keeps_the_path(
        tmp_path: Path, upstream: RecordingUpstream, base: str, sent: str) -> None:
    file = _write(tmp_path, base)
    upstream.route("GET", sent, reply(json=[]))
    async with serve(file, {"*": upstream.url}) as served:
        status, text = await served.call("GET", served.rest("up-rest") + "/mappings")
        async with served.mcp("up-mcp") as client:
            [tool] = (await client.list_tools()).tools  # an agent fills what the listed schema requires
            result = await client.call_tool("list", {name: "x" for name in tool.input_schema.get("required", [])})
    assert status == 200, text
    assert not result.is_error, result
    assert [r.raw_path for r in upstream.requests] == [sent] * 2


async def test_a_base_uri_that_does_not_parse_is_a_warning_and_a_call_through_it_answers_502(tmp_path: Path) -> None:
    file = _write(tmp_path, "http://[array]")
    result = load(file)
    assert result.ok
    [warning] = [d for d in result.diagnostics if d.code == "invalid-base-uri"]
    assert warning.severity == "warning" and "http://[array]" in warning.message and warning.line == 5
    async with serve(file, {}) as served:
        status, text = await served.call("GET", served.rest("up-rest") + "/mappings")
        async with served.mcp("up-mcp") as client:
            tool = await client.call_tool("list", {})
    assert status == 502, text
    body = json.loads(text)
    assert body["error"] == "invalid_upstream" and "not a URL" in body["message"]
    assert tool.is_error and "not a URL" in " ".join(getattr(c, "text", "") for c in tool.content)


async def test_a_base_uri_whose_origin_is_a_placeholder_takes_a_url_from_the_environment(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = _write(tmp_path, "{{env.SERVICE_URL}}/api/58")
    upstream.route("GET", "/api/58/mappings", reply(json=[]))
    async with serve(file, {}, env={"SERVICE_URL": upstream.url}) as served:
        status, text = await served.call("GET", served.rest("up-rest") + "/mappings")
    assert status == 200, text
    assert [r.raw_path for r in upstream.requests] == ["/api/58/mappings"]


def test_a_base_uri_in_single_braces_is_a_placeholder(tmp_path: Path) -> None:
    """`{GATEWAY_URL}` (OpenAPI's brace style) is read like `{{GATEWAY_URL}}`, with a warning, not a disabled namespace."""
    result = load(_write(tmp_path, "{GATEWAY_URL}/v2"))
    assert result.ok, result.diagnostics
    assert [d.code for d in result.diagnostics if d.line == 7] == ["baseuri-placeholder"]


def test_a_scheme_relative_base_uri_is_read_as_https(tmp_path: Path) -> None:
    file = _write(tmp_path, "//api.example.com/media/v")
    result = load(file)
    assert result.ok, result.diagnostics
    [warning] = [d for d in result.diagnostics if d.code == "baseuri-scheme-relative"]
    assert (warning.severity, warning.line, warning.col) == ("warning", 7, 14)
    assert load(file, strict=True).ok is False
    [api] = result.capability.consumes
    assert api.base_uri == "https://api.example.com/media/v"


async def test_a_base_uri_of_another_scheme_is_a_warning_and_answers_502_without_upstream(tmp_path: Path) -> None:
    """`blpapi+session://localhost` is not HTTP: a warning (not a disabled namespace); served only through `--upstream`."""
    file = _write(tmp_path, "blpapi+session://localhost/v1")
    result = load(file)
    assert result.ok, result.diagnostics
    assert "baseuri-not-http" in {d.code for d in result.diagnostics if d.severity == "warning"}
    assert load(file, strict=True).ok is False
    async with serve(file, {}) as served:
        status, text = await served.call("GET", served.rest("up-rest") + "/mappings")
    assert status == 502 and json.loads(text)["error"] == "invalid_upstream", text


def test_a_base_uri_whose_origin_is_a_placeholder_is_no_invalid_base_uri(tmp_path: Path) -> None:
    result = load(_write(tmp_path, "{{env.SERVICE_URL}}/api/58"))
    assert result.ok and not [d for d in result.diagnostics if d.code == "invalid-base-uri"], result.diagnostics


def test_a_bind_read_only_by_the_base_uri_is_used(tmp_path: Path) -> None:
    """`{SERVICE_URL}/api` is filled from the bind per call: no "never used" warning that says calls go without it."""
    file = tmp_path / "bound.yaml"
    file.write_text(FILE.format(base="{SERVICE_URL}/api").replace(
        "capability:\n", "binds:\n- namespace: env\n  keys: {SERVICE_URL: SERVICE_URL}\ncapability:\n", 1))
    result = load(file)
    assert result.ok, result.diagnostics
    assert not [d for d in result.diagnostics if d.code == "unused-bind"], result.diagnostics


def test_a_base_uri_whose_scheme_and_host_are_placeholders_is_no_invalid_base_uri(tmp_path: Path) -> None:
    result = load(_write(tmp_path, "{scheme}://{host}/api/v9"))
    assert result.ok and not [d for d in result.diagnostics if d.code == "invalid-base-uri"], result.diagnostics
