"""The MCP server of one adapter, in process (SDK in-memory client) and over HTTP (port 0).

The capability (`fixtures/shipyard.yaml`) consumes a stub upstream started here, so
every result shape (mapped object, wrapped array, empty 2xx, upstream 404) and the
declared-input, mock, resource and prompt paths are exercised against a real server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from aiohttp import web
from mcp.client import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from naftiko_runtime.binding.binds import resolve_capability_binds
from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import McpAdapter
from naftiko_runtime.exposes.mcp.http import serve_mcp_http
from naftiko_runtime.exposes.mcp.server import build_server
from naftiko_runtime.invoke.client import UpstreamPool, UpstreamSettings
from naftiko_runtime.invoke.invoker import Invoker
from tests.support.recording_upstream import RecordingUpstream, reply

FIXTURE = Path(__file__).parent / "fixtures" / "shipyard.yaml"
SHIPS = {"IMO-9321483": {"imo": "IMO-9321483", "name": "Northern Star", "status": "active"}}
MODES = ["legacy", "auto"]  # initialize handshake (2025-11-25) and the 2026-07-28 envelope


@pytest.fixture
async def upstream() -> AsyncIterator[RecordingUpstream]:
    """The shipyard registry: one ship, listed (filtered by `status`), read, scrapped; an unknown one is 404."""

    async def ships(request: web.BaseRequest, _: RecordingUpstream) -> web.Response:
        status = request.query.get("status")
        return web.json_response({"ships": [s for s in SHIPS.values() if status is None or s["status"] == status]})

    record = await RecordingUpstream().start()
    record.route("GET", "/ships", ships)
    for imo, ship in SHIPS.items():
        record.route("GET", f"/ships/{imo}", reply(json={**ship, "extra": 1}))
        record.route("DELETE", f"/ships/{imo}", reply(204))
    record.route("GET", "/ships/IMO-0", reply(404, json={"message": "ship IMO-0 not found"}))
    yield record
    await record.stop()


@pytest.fixture
async def wired(upstream: RecordingUpstream) -> AsyncIterator[tuple[McpAdapter, Invoker]]:
    cap = load(FIXTURE).capability
    assert cap is not None
    pool = UpstreamPool(UpstreamSettings(retries=0))
    invoker = Invoker(cap, resolve_capability_binds(cap, {}), pool, {"registry": upstream.url})
    adapter = next(a for a in cap.adapters if isinstance(a, McpAdapter))
    yield adapter, invoker
    await pool.close()


@pytest.fixture(params=MODES)
def connect(request: pytest.FixtureRequest, wired: tuple[McpAdapter, Invoker]) -> Callable[[], Client]:
    """An in-process SDK client factory (entered inside the test: anyio scopes must not cross tasks)."""
    return lambda: Client(build_server(*wired), mode=request.param)


async def test_list_tools_title_schema_annotations(connect: Callable[[], Client]) -> None:
    async with connect() as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert list(tools) == ["get-ship", "list-ships", "scrap-ship", "greet"]
        get = tools["get-ship"]
        assert get.title == "Get Ship"
        # `with: {imo_number: shipyard-tools.imo}`: the caller supplies `imo`, the name the invoker reads
        assert get.input_schema["properties"].keys() == {"imo"}
        assert get.input_schema["required"] == ["imo"]
        assert get.input_schema["additionalProperties"] is False
        assert get.annotations is not None and get.annotations.title == "Get Ship"
        assert (get.annotations.read_only_hint, get.annotations.destructive_hint, get.annotations.idempotent_hint,
                get.annotations.open_world_hint) == (True, False, True, True)
        assert get.output_schema == {"type": "object", "properties": {"imo": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]}}}
        scrap = tools["scrap-ship"].annotations
        assert scrap is not None  # DELETE: destructive+idempotent derived, but the file's `destructive: false` wins
        assert (scrap.read_only_hint, scrap.destructive_hint, scrap.idempotent_hint) == (False, False, True)
        greet = tools["greet"]  # declared inputParameters win; a mock is a closed world
        assert greet.input_schema == {
            "type": "object",
            "properties": {"who": {"type": "string", "description": "Whom to greet."},
                           "times": {"type": "integer", "description": "How often."}},
            "required": ["who"],
            "additionalProperties": False,  # an undeclared argument is refused, not silently dropped
        }
        assert greet.annotations is not None and greet.annotations.open_world_hint is False


async def test_call_maps_object_output(connect: Callable[[], Client], upstream: RecordingUpstream) -> None:
    async with connect() as client:
        result = await client.call_tool("get-ship", {"imo": "IMO-9321483"})
        assert not result.is_error
        assert result.structured_content == {"imo": "IMO-9321483", "name": "Northern Star"}
        assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
        assert upstream.requests[-1].raw_path == "/ships/IMO-9321483"


async def test_array_output_is_wrapped(connect: Callable[[], Client], upstream: RecordingUpstream) -> None:
    async with connect() as client:
        result = await client.call_tool("list-ships", {"status": "active"})
        assert result.structured_content == {"result": [{"imo": "IMO-9321483"}]}
        assert json.loads(result.content[0].text) == [{"imo": "IMO-9321483"}]  # type: ignore[union-attr]
        assert dict(upstream.requests[-1].query) == {"status": "active"}


async def test_empty_2xx_is_success(connect: Callable[[], Client]) -> None:
    async with connect() as client:
        result = await client.call_tool("scrap-ship", {"imo": "IMO-9321483"})
        assert not result.is_error  # and it says what happened, not an empty text and {"result": null}
        assert result.structured_content == {"ok": True, "status": 204}
        assert "answered 204 with no content" in result.content[0].text  # type: ignore[union-attr]


async def test_upstream_404_is_error_result_with_status_and_message(connect: Callable[[], Client]) -> None:
    async with connect() as client:
        result = await client.call_tool("get-ship", {"imo": "IMO-0"})
        assert result.is_error
        text = result.content[0].text  # type: ignore[union-attr]
        assert "404" in text and "ship IMO-0 not found" in text


async def test_missing_and_unknown_arguments_name_the_argument_before_any_upstream_call(
    connect: Callable[[], Client], upstream: RecordingUpstream
) -> None:
    async with connect() as client:
        before = len(upstream.requests)
        missing = await client.call_tool("get-ship", {})
        assert missing.is_error and "missing required argument 'imo'" in missing.content[0].text  # type: ignore[union-attr]
        wrong = await client.call_tool("greet", {"who": "crew", "times": "twice"})
        assert wrong.is_error and "argument 'times'" in wrong.content[0].text  # type: ignore[union-attr]
        unknown = await client.call_tool("get-ship", {"imo": "IMO-9321483", "colour": "red"})
        assert unknown.is_error and "unknown argument 'colour'" in unknown.content[0].text  # type: ignore[union-attr]
        assert len(upstream.requests) == before


async def test_unknown_tool_is_a_protocol_error(connect: Callable[[], Client]) -> None:
    async with connect() as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("no-such-tool", {})
        assert caught.value.code == INVALID_PARAMS
        assert "no-such-tool" in caught.value.message


async def test_mock_tool_from_declared_inputs(connect: Callable[[], Client]) -> None:
    async with connect() as client:
        result = await client.call_tool("greet", {"who": "crew"})
        assert result.structured_content == {"greeting": "hello crew"}


async def test_resources_concrete_templates_and_reads(connect: Callable[[], Client]) -> None:
    async with connect() as client:
        listed = {r.uri: r for r in (await client.list_resources()).resources}
        assert list(listed) == ["shipyard://docs/guide.md"]
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert templates == {"shipyard://ships/{imo}", "shipyard://pages/{page}"}
        ship = await client.read_resource("shipyard://ships/IMO-9321483")
        assert json.loads(ship.contents[0].text)["name"] == "Northern Star"  # type: ignore[union-attr]
        assert ship.contents[0].mime_type == "application/json"
        page = await client.read_resource("shipyard://pages/guide.md")
        assert "Fleet guide" in page.contents[0].text  # type: ignore[union-attr]
        doc = await client.read_resource("shipyard://docs/guide.md")
        assert doc.contents[0].mime_type == "text/markdown"
        for bad in ("shipyard://pages/a/b", "shipyard://pages/..%2Fshipyard.yaml", "nope://x"):
            with pytest.raises(MCPError):
                await client.read_resource(bad)


async def test_prompts_render_arguments(connect: Callable[[], Client]) -> None:
    async with connect() as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert prompts["inspect-ship"].title == "Inspect a ship"
        assert [(a.name, a.required) for a in prompts["inspect-ship"].arguments or []] == [("imo", True), ("focus", False)]
        got = await client.get_prompt("inspect-ship", {"imo": "IMO-1", "focus": "$0 \\g<0>"})
        assert got.messages[0].content.text == "Inspect IMO-1 focusing on $0 \\g<0>. Price: $1 \\1"  # type: ignore[union-attr]
        partial = await client.get_prompt("inspect-ship", {"imo": "IMO-1"})
        assert "{{focus}}" in partial.messages[0].content.text  # type: ignore[union-attr]
        from_file = await client.get_prompt("from-file", {"imo": "IMO-2"})
        assert from_file.messages[0].content.text.strip() == "Summarise ship IMO-2."  # type: ignore[union-attr]
        with pytest.raises(MCPError):
            await client.get_prompt("inspect-ship", {})
        with pytest.raises(MCPError):
            await client.get_prompt("no-such-prompt", {})


# -- over HTTP, through serve_mcp_http on port 0 ------------------------------------------


@pytest.fixture
async def http_url(wired: tuple[McpAdapter, Invoker]) -> AsyncIterator[str]:
    async def readiness() -> tuple[bool, dict[str, Any]]:
        return True, {"checked": True}

    server, task, port = await serve_mcp_http(*wired, "127.0.0.1", 0, readiness=readiness, allowed_hosts=["mcp.example.org"])
    assert port != 0
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


AUTH = {"Authorization": "Bearer s3cret-mcp-token"}
JSON_RPC = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


async def test_http_auth_required_with_challenge_and_json_body(http_url: str) -> None:
    async with httpx2.AsyncClient() as http:
        refused = await http.post(f"{http_url}/mcp", json=INIT, headers=JSON_RPC)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert refused.json()["error"] == "unauthorized"
        wrong = await http.post(f"{http_url}/mcp", json=INIT, headers={**JSON_RPC, "Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await http.post(f"{http_url}/", json=INIT, headers={**JSON_RPC, **AUTH})
        assert ok.status_code == 200 and ok.json()["result"]["protocolVersion"] == "2025-06-18"
        health = await http.get(f"{http_url}/health/ready")  # probes need no credentials
        assert health.status_code == 200 and health.json() == {"status": "UP", "checked": True}


async def test_http_caller_credentials_never_reach_the_upstream(http_url: str, upstream: RecordingUpstream) -> None:
    async with httpx2.AsyncClient(headers=AUTH) as http, _authed(f"{http_url}/mcp", http) as c:
        result = await c.call_tool("get-ship", {"imo": "IMO-9321483"})
    assert not result.is_error
    sent = upstream.requests[-1].headers
    assert "Authorization" not in sent and "s3cret-mcp-token" not in json.dumps(dict(sent))


async def test_http_host_and_origin_checks_explain_themselves(http_url: str) -> None:
    port = http_url.rsplit(":", 1)[1]
    async with httpx2.AsyncClient() as http:
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"mcp.example.org:{port}", "mcp.example.org"):
            ok = await http.post(f"{http_url}/mcp", json=INIT, headers={**JSON_RPC, **AUTH, "host": host})
            assert ok.status_code == 200, host
        evil = await http.post(f"{http_url}/mcp", json=INIT, headers={**JSON_RPC, **AUTH, "host": "evil.example:80"})
        assert evil.status_code == 421
        assert "--allowed-host evil.example" in evil.json()["message"]
        origin = await http.post(f"{http_url}/mcp", json=INIT, headers={**JSON_RPC, **AUTH, "origin": "http://evil.example"})
        assert origin.status_code == 403
        good_origin = await http.post(f"{http_url}/mcp", json=INIT, headers={**JSON_RPC, **AUTH, "origin": f"http://localhost:{port}"})
        assert good_origin.status_code == 200


def _authed(url: str, http: httpx2.AsyncClient) -> Client:
    """An SDK client whose HTTP requests carry the adapter's bearer token."""
    from mcp.client.streamable_http import streamable_http_client

    return Client(streamable_http_client(url, http_client=http))
