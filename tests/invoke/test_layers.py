"""The explicit layers of issue 17: the upstream transport stack and the invoke middleware chain.

The wire is replaced by `MockTransport` (the product's own test transport, as httpx has one);
every layer above it is the real one, composed by `naftiko_runtime.stack`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from naftiko_runtime.binding.binds import resolve_capability_binds
from naftiko_runtime.errors import Overloaded, UpstreamError
from naftiko_runtime.invoke.invoker import Invoker
from naftiko_runtime.invoke.request import UpstreamRequest
from naftiko_runtime.invoke.transport import (
    MockTransport,
    RetryTransport,
    UpstreamResponse,
    UpstreamSettings,
)
from naftiko_runtime.metrics import MetricsTransport, RuntimeMetrics
from naftiko_runtime.stack import build_invoker, upstream_stack
from tests.support.paths import SEEDED_DIR

from .conftest import load_capability
from .helpers import mcp_incoming, tool

INNGEST = SEEDED_DIR / "inngest-runs.yaml"
SETTINGS = UpstreamSettings(retries=2, backoff=0.001)


def _request(method: str = "GET") -> UpstreamRequest:
    return UpstreamRequest(method, "http://upstream.test/v1/runs/r1", pool_key="svc@http://upstream.test",
                           upstream="svc.get-run", namespace="svc", operation="get-run")


def _answer(status: int, body: bytes = b"{}") -> UpstreamResponse:
    return UpstreamResponse(status, {"Content-Type": "application/json"}, body, "application/json")


async def test_retry_layer_resends_safe_methods_only() -> None:
    seen: list[str] = []

    async def flaky(req: UpstreamRequest) -> UpstreamResponse:
        seen.append(req.method)
        return _answer(503 if len(seen) < 3 else 200)

    retry = RetryTransport(MockTransport(flaky), retries=2, backoff=0.001)
    response = await retry.send(_request("GET"))
    assert (response.status, response.attempts, seen) == (200, 3, ["GET"] * 3)
    seen.clear()
    response = await retry.send(_request("POST"))
    assert (response.status, response.attempts, seen) == (503, 1, ["POST"])


async def test_limit_refuses_at_once_and_metrics_count_the_refusal() -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def held(req: UpstreamRequest) -> UpstreamResponse:
        entered.set()
        await release.wait()
        return _answer(200)

    metrics = RuntimeMetrics()
    stack = MetricsTransport(upstream_stack(SETTINGS, max_concurrency=1, wire=MockTransport(held)), metrics)
    first = asyncio.create_task(stack.send(_request()))
    await asyncio.wait_for(entered.wait(), 5)  # the first call holds the only slot
    with pytest.raises(Overloaded) as caught:
        await stack.send(_request())
    assert caught.value.status == 503 and caught.value.headers == {"Retry-After": "1"} and caught.value.retry_after == 1
    release.set()
    assert (await asyncio.wait_for(first, 5)).status == 200
    sample = metrics.registry.get_sample_value
    assert sample("naftiko_http_client_total", {"namespace": "svc", "operation": "get-run", "status_code": "503"}) == 1
    assert sample("naftiko_http_client_errors_total", {"namespace": "svc", "operation": "get-run", "error_type": "upstream_busy"}) == 1
    assert sample("naftiko_http_client_total", {"namespace": "svc", "operation": "get-run", "status_code": "200"}) == 1
    # the slot is free again
    assert (await stack.send(_request())).status == 200


async def test_invoke_middlewares_wrap_the_action_in_order() -> None:
    cap = load_capability(INNGEST)
    binds = resolve_capability_binds(cap, {"INNGEST_API_KEY": "k"})
    sent: list[UpstreamRequest] = []

    async def wire(req: UpstreamRequest) -> UpstreamResponse:
        sent.append(req)
        return _answer(200, b'{"id": "r1"}')

    order: list[str] = []

    def mark(name: str) -> Any:
        async def middleware(action: Any, incoming: Any, call_next: Any) -> Any:
            order.append(f"{name}>")
            outcome = await call_next(action, incoming)
            order.append(f"<{name}")
            return outcome
        return middleware

    invoker = Invoker(cap, binds, MockTransport(wire), {"*": "http://upstream.test"},
                      middlewares=[mark("outer"), mark("inner")], env={})
    outcome = await invoker.invoke(tool(cap, "get-function-run-status"), mcp_incoming({"runId": "r1"}))
    assert outcome.status == 200 and outcome.data == {"id": "r1"}
    assert order == ["outer>", "inner>", "<inner", "<outer"]
    [req] = sent
    assert req.url == "http://upstream.test/v1/runs/r1" and req.namespace == "inngest-runs"


async def test_built_invoker_counts_actions_and_upstream_calls() -> None:
    cap = load_capability(INNGEST)
    binds = resolve_capability_binds(cap, {"INNGEST_API_KEY": "k"})

    async def wire(req: UpstreamRequest) -> UpstreamResponse:
        return _answer(200, b'{"id": "r1"}')

    metrics = RuntimeMetrics()
    transport = upstream_stack(SETTINGS, wire=MockTransport(wire))
    invoker = build_invoker(cap, binds, transport, base_overrides={"*": "http://upstream.test"}, metrics=metrics, env={})
    action = tool(cap, "get-function-run-status")
    for _ in range(2):
        await invoker.invoke(action, mcp_incoming({"runId": "r1"}))
    sample = metrics.registry.get_sample_value
    assert sample("naftiko_request_total", {"adapter": action.adapter, "operation": action.name, "status": "200"}) == 2
    op = action.call.operation if action.call else None
    assert op is not None
    assert sample("naftiko_http_client_total", {"namespace": op.namespace, "operation": op.name, "status_code": "200"}) == 2


async def test_a_namespace_without_upstream_is_a_502_no_upstream_and_nothing_is_sent(write_capability: Any) -> None:
    cap = write_capability("""\
naftiko: 1.0.0-alpha2
info: {label: Nowhere, description: A namespace with no address.}
capability:
  consumes:
  - type: http
    namespace: nowhere
    baseUri: ""
    resources:
    - {name: things, path: /things, operations: [{name: list-things, method: GET}]}
  exposes:
  - type: mcp
    namespace: tools
    port: 3000
    tools:
    - {name: list-things, description: Things., call: nowhere.list-things}
""")
    sent: list[UpstreamRequest] = []

    async def wire(req: UpstreamRequest) -> UpstreamResponse:
        sent.append(req)
        return _answer(200)

    invoker = Invoker(cap, resolve_capability_binds(cap, {}), MockTransport(wire), env={})
    with pytest.raises(UpstreamError) as caught:
        await invoker.invoke(tool(cap, "list-things"), mcp_incoming({}))
    assert (caught.value.status, caught.value.error, caught.value.upstream) == (502, "no_upstream", "nowhere.list-things")
    assert "--upstream nowhere=URL" in caught.value.message and sent == []
