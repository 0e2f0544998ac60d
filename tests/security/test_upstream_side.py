"""Issue 20, the upstream's side: redirects, secrets relayed in headers and printed by the CLI,
idempotent retries through the adapters, and error bodies that keep the exported contract.

Every test drives a real `naftiko run` (or `naftiko call`) against a hostile upstream on loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from jsonschema import Draft202012Validator
from mcp.client import Client
from openapi_spec_validator import validate as validate_openapi

from naftiko_runtime.capability.loader import load
from naftiko_runtime.exposes.rest.openapi import build_openapi
from tests.conftest import HTTP_CLIENTS
from tests.ops.helpers import mcp_call
from tests.support.paths import CAPABILITIES
from tests.support.runtime import Runtime, start

from .upstream_side_support import (
    CAPABILITY,
    FOREIGN_A,
    FOREIGN_B,
    SECRET_ENV,
    HostileUpstream,
    assert_no_secret,
    raw_request,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def away() -> Iterator[HostileUpstream]:
    """Another origin: nothing may ever reach it."""
    with HostileUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def upstream(away: HostileUpstream) -> Iterator[HostileUpstream]:
    with HostileUpstream(away=away.url) as up:
        yield up


@pytest.fixture(scope="module")
def capability(tmp_path_factory: pytest.TempPathFactory) -> Path:
    file = tmp_path_factory.mktemp("hostile") / "hostile.yaml"
    file.write_text(CAPABILITY)
    return file


@pytest.fixture(scope="module", params=HTTP_CLIENTS)
def server(request: pytest.FixtureRequest, capability: Path, upstream: HostileUpstream,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The runtime over each upstream HTTP client (`--http-client`): both relay the hostile upstream alike."""
    runtime = start(capability, log=tmp_path_factory.mktemp("log") / "run.log", env=SECRET_ENV,
                    extra=["--upstream", f"*={upstream.url}", "--http-client", request.param])
    yield runtime
    runtime.stop()


@pytest.fixture(scope="module")
def exported(capability: Path) -> dict[str, Any]:
    """What `naftiko export openapi` writes for the capability."""
    result = load(capability)
    assert result.ok and result.capability is not None
    doc = build_openapi(result.capability)
    validate_openapi(doc)
    return doc


def assert_matches_export(doc: dict[str, Any], method: str, path: str, status: int, body: Any) -> None:
    """The body validates against the schema the exported document gives for that status (or `default`)."""
    responses = doc["paths"][path][method.lower()]["responses"]
    response = responses.get(str(status)) or responses["default"]
    schema = response["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    Draft202012Validator(schema).validate(body)


# -- 5. redirects ---------------------------------------------------------------------------


def test_a_redirect_to_the_upstream_itself_points_to_the_exposed_route(server: Runtime, upstream: HostileUpstream) -> None:
    status, headers, _ = raw_request(f"{server.rest}/redirect/same")
    assert status == 302
    location = headers["Location"]
    assert location.startswith("/items/42?"), location
    assert "127.0.0.1" not in location  # the upstream's own address is never relayed
    assert "api_key=***" in location
    assert_no_secret(json.dumps(headers))  # 4: the key the upstream put in Location is redacted


def test_a_redirect_to_an_unexposed_path_is_502(server: Runtime, exported: dict[str, Any]) -> None:
    status, headers, body = raw_request(f"{server.rest}/redirect/internal")
    assert status == 502 and "Location" not in headers
    assert body["error"] == "upstream_redirect" and "307" in body["message"]
    assert "127.0.0.1" not in json.dumps(body) and "/internal/admin" not in json.dumps(body)
    assert_matches_export(exported, "GET", "/redirect/internal", status, body)


def test_a_redirect_to_another_origin_is_not_followed(server: Runtime, away: HostileUpstream, exported: dict[str, Any]) -> None:
    status, headers, body = raw_request(f"{server.rest}/redirect/away")
    assert status == 502 and "Location" not in headers
    assert body["error"] == "upstream_redirect" and "302" in body["message"] and away.url in body["message"]
    assert_no_secret(json.dumps(body))
    assert away.requests == []
    assert_matches_export(exported, "GET", "/redirect/away", status, body)


def test_a_created_resource_location_points_to_the_exposed_route(server: Runtime) -> None:
    status, headers, body = raw_request(f"{server.rest}/created", "POST", {})
    assert status == 201 and body == {"id": "7"}
    assert headers["Location"] == "/items/7"


@pytest.mark.parametrize("tool", ["redirect-same", "redirect-away"])
def test_a_redirect_over_mcp_is_an_error_naming_the_status(tool: str, server: Runtime, away: HostileUpstream) -> None:
    status, _, answer = mcp_call(server.mcp, tool)
    assert status == 200
    result = answer["result"]
    assert result["isError"] is True
    assert "302" in result["content"][0]["text"] and "redirect" in result["content"][0]["text"]
    assert result["structuredContent"]["error"]["status"] == 302
    assert_no_secret(json.dumps(answer))
    assert "127.0.0.1" not in json.dumps(answer)
    assert away.requests == []


# -- 10. errors in the exported contract ------------------------------------------------------


@pytest.mark.parametrize("path, foreign", [("/foreign/a", FOREIGN_A), ("/foreign/b", FOREIGN_B)])
def test_an_upstream_error_keeps_the_exported_error_shape(path: str, foreign: dict[str, Any], server: Runtime,
                                                         exported: dict[str, Any]) -> None:
    status, headers, body = raw_request(f"{server.rest}{path}")
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert_matches_export(exported, "GET", path, status, body)
    assert body["error"] == "upstream_rejected" and "400" in body["message"]
    assert body["upstream"]["status"] == 400 and body["upstream"]["body"] == foreign


# -- 9. idempotent retries ---------------------------------------------------------------------


def test_idempotency_key_and_if_match_are_forwarded_over_rest(server: Runtime, upstream: HostileUpstream) -> None:
    status, _, body = raw_request(f"{server.rest}/writes", "POST", {"a": 1},
                                  headers={"Idempotency-Key": "rest-key-1", "If-Match": '"v7"'})
    assert status == 201
    assert body == {"idempotency_key": "rest-key-1", "if_match": '"v7"'}


def test_a_write_with_an_idempotency_key_is_retried_and_one_without_is_not(server: Runtime, upstream: HostileUpstream) -> None:
    def hits() -> int:
        return sum(1 for r in upstream.requests if r["path"].startswith("/flaky-writes"))

    upstream.forget("/flaky-writes")  # the module's server runs once per HTTP client, over one upstream
    status, _, body = raw_request(f"{server.rest}/flaky-writes", "POST", {}, headers={"Idempotency-Key": "flaky-1"})
    assert status == 201 and body == {"idempotency_key": "flaky-1"}
    assert hits() == 2  # the 503 was retried: with the key the upstream cannot run it twice
    status, _, body = raw_request(f"{server.rest}/flaky-writes", "POST", {})
    assert status == 503 and hits() == 3  # without a key a write is never repeated


def test_idempotency_key_of_the_mcp_request_is_forwarded(server: Runtime, upstream: HostileUpstream) -> None:
    status, _, answer = mcp_call(server.mcp, "write", headers={"Idempotency-Key": "mcp-key-1"})
    assert status == 200 and not answer["result"].get("isError"), answer
    assert answer["result"]["structuredContent"]["idempotency_key"] == "mcp-key-1"


def test_an_mcp_tool_takes_the_key_as_an_argument_where_the_operation_declares_it(server: Runtime) -> None:
    status, _, answer = mcp_call(server.mcp, "write", {"Idempotency-Key": "arg-key-1"})
    assert status == 200 and not answer["result"].get("isError"), answer
    assert answer["result"]["structuredContent"]["idempotency_key"] == "arg-key-1"


async def test_the_sdk_client_passes_the_key_and_sees_a_redirect_as_an_error(server: Runtime) -> None:
    """The same over the SDK's own streamable HTTP client (its headers go with every MCP request)."""
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers={"Idempotency-Key": "sdk-key-1"}) as http, \
            Client(streamable_http_client(server.mcp, http_client=http)) as client:
        written = await client.call_tool("write", {})
        redirected = await client.call_tool("redirect-same", {})
    assert not written.is_error and written.structured_content["idempotency_key"] == "sdk-key-1"
    assert redirected.is_error and "302" in redirected.content[0].text


def test_the_export_declares_the_forwarded_headers(exported: dict[str, Any]) -> None:
    params = {(p["name"], p["in"]): p for p in exported["paths"]["/writes"]["post"]["parameters"]}
    assert params[("Idempotency-Key", "header")]["required"] is False
    assert ("If-Match", "header") in params
    assert "parameters" not in exported["paths"]["/foreign/a"]["get"]  # reads take neither


def test_shipped_capabilities_declare_the_headers_on_writes() -> None:
    result = load(CAPABILITIES / "local-pipelines.yaml")
    assert result.ok and result.capability is not None
    for api in result.capability.consumes:
        for op in api.operations:
            headers = {p.name for p in op.params if p.location == "header"}
            if op.method in ("POST", "PUT", "PATCH"):
                assert "Idempotency-Key" in headers, op.name
            if op.method in ("PUT", "PATCH"):
                assert "If-Match" in headers, op.name


@pytest.fixture(scope="module")
def local_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """`naftiko run local-pipelines.yaml` with its token unset: the bundled engine, in-process on port 0."""
    os.environ.pop("LOCAL_PIPELINES_TOKEN", None)
    runtime = start(CAPABILITIES / "local-pipelines.yaml", log=tmp_path_factory.mktemp("engine") / "run.log")
    yield runtime
    runtime.stop()


def test_concurrent_creations_with_one_key_make_one_run(local_engine: Runtime) -> None:
    base = local_engine.rest
    status, _, pipeline = raw_request(f"{base}/pipelines", "POST", {"name": "idem", "stages": [
        {"id": "tell", "name": "Tell", "type": "notify", "order": 1, "config": {"channel": "#idem", "message": "hi"}}]})
    assert status == 201, pipeline
    runs_url = f"{base}/pipelines/{pipeline['id']}/runs"

    def trigger(_: int) -> tuple[int, Any]:
        status, _, body = raw_request(runs_url, "POST", headers={"Idempotency-Key": "one-key"})
        return status, body

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(trigger, range(40)))
    assert all(status == 201 for status, _ in answers), answers[:3]
    ids = {body["id"] for _, body in answers}
    assert len(ids) == 1, ids
    status, _, runs = raw_request(runs_url)
    assert status == 200 and [r["id"] for r in runs] == list(ids)
    status, _, again = raw_request(runs_url, "POST", headers={"Idempotency-Key": "one-key"})
    assert status == 201 and again["id"] in ids  # a retry after success returns the committed run
    status, _, other = raw_request(runs_url, "POST", headers={"Idempotency-Key": "another-key"})
    assert status == 201 and other["id"] not in ids


# -- 4. the CLI prints no secret ------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["keyed", "bearer", "basic"])
@pytest.mark.parametrize("case", ["echo-error", "echo-text", "redirect", "malformed"])
def test_naftiko_call_prints_no_secret(scheme: str, case: str, capability: Path, upstream: HostileUpstream) -> None:
    env = {**os.environ, **SECRET_ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "naftiko_runtime", "call", str(capability), f"{scheme}-{case}",
         "--upstream", f"*={upstream.url}", "--timeout", "20"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert_no_secret(output)
    assert "***" in output or case in ("redirect", "malformed")
    assert "Traceback" not in output
    if case == "redirect":
        assert "302" in output and "127.0.0.1" in output  # the operator sees where it pointed, redacted
    if case == "malformed":
        assert "upstream_error" in output and "127.0.0.1" not in output  # aiohttp's message named the URL
