"""Prometheus /metrics (on --metrics-port) counts what was sent; body size and concurrency limits answer 413/503."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import HTTP_CLIENTS
from tests.ops.helpers import (
    CAPABILITY,
    SECRET_ENV,
    OpsUpstream,
    mcp_call,
    metric_samples,
)
from tests.support.runtime import Runtime, poll, request, start


@pytest.fixture(params=HTTP_CLIENTS)
def http_client(request: pytest.FixtureRequest) -> str:
    """Overrides the suite's aiohttp-only fixture: retries, errors, in-flight calls and the concurrency limit over either client."""
    return str(request.param)


def _value(samples: dict, family: str, suffix: str = "", **labels: str) -> float:
    name = family + suffix
    return sum(s.value for s in samples.get(family, []) if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_parse_and_count_what_was_sent(ops: Runtime, upstream: OpsUpstream, metrics_port: int) -> None:
    for _ in range(3):
        assert request("GET", f"{ops.rest}/echo")[0] == 200
    assert request("GET", f"{ops.rest}/echo-error")[0] == 401
    for _ in range(2):
        assert mcp_call(ops.mcp, "echo")[0] == 200
    samples = metric_samples(f"http://127.0.0.1:{metrics_port}/metrics")
    assert _value(samples, "naftiko_request", "_total", adapter="ops", operation="echo", status="200") == 3
    assert _value(samples, "naftiko_request", "_total", adapter="ops", operation="echo-error", status="401") == 1
    assert _value(samples, "naftiko_request", "_total", adapter="ops-tools", operation="echo", status="200") == 2
    assert _value(samples, "naftiko_request_duration_seconds", "_count", adapter="ops", operation="echo") == 3
    assert _value(samples, "naftiko_http_client", "_total", namespace="svc", operation="get-echo", status_code="200") == 5
    assert _value(samples, "naftiko_http_client_duration_seconds", "_count", namespace="svc", operation="get-echo") == 5
    assert _value(samples, "naftiko_requests_in_flight", adapter="ops") == 0


def test_retries_upstream_errors_and_in_flight_are_counted(ops: Runtime, upstream: OpsUpstream, metrics_port: int) -> None:
    # /flaky answers 503 twice: the GET is retried twice and then succeeds.
    assert request("GET", f"{ops.rest}/flaky")[0] == 200
    metrics = f"http://127.0.0.1:{metrics_port}/metrics"
    samples = metric_samples(metrics)
    assert _value(samples, "naftiko_http_client_retries", "_total", namespace="svc", operation="get-flaky") == 2
    # an upstream error: 401 is the upstream's answer, not an error of the call; a 5xx is
    upstream.flaky_failures = 100
    assert request("GET", f"{ops.rest}/flaky")[0] == 503
    samples = metric_samples(metrics)
    assert _value(samples, "naftiko_http_client_errors", "_total", namespace="svc", operation="get-flaky", error_type="http_503") == 1
    assert _value(samples, "naftiko_http_client_retries", "_total", namespace="svc", operation="get-flaky") == 4
    # a request held by the upstream is in flight until released
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(request("GET", f"{ops.rest}/slow")[0]))
    thread.start()
    poll(lambda: _value(metric_samples(metrics), "naftiko_requests_in_flight", adapter="ops") == 1, timeout=10)
    upstream.release()
    thread.join(30)
    assert done == [200]
    assert _value(metric_samples(metrics), "naftiko_requests_in_flight", adapter="ops") == 0


def test_metrics_port_answers_health(ops: Runtime, metrics_port: int) -> None:
    status, _, body = request("GET", f"http://127.0.0.1:{metrics_port}/health/ready")
    assert status == 200 and body["status"] == "UP"


def _post(url: str, data: bytes) -> tuple[int, dict, dict]:
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


def test_request_body_limit_413_on_rest_and_mcp(tmp_path: Path, capability: Path, upstream: OpsUpstream) -> None:
    runtime = start(capability, log=tmp_path / "run.log", env={**SECRET_ENV, "NAFTIKO_MAX_BODY": "1k"},
                    extra=["--upstream", f"*={upstream.url}"])
    try:
        small = json.dumps({"a": "x" * 100}).encode()
        big = json.dumps({"a": "x" * 2000}).encode()
        assert _post(f"{runtime.rest}/items", small)[0] == 200
        status, _, body = _post(f"{runtime.rest}/items", big)
        assert status == 413 and body["error"] == "payload_too_large"
        assert not any(r["path"] == "/items" and len(r["body"]) > 1024 for r in upstream.requests)
        message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {}}, "pad": "x" * 2000}
        req = urllib.request.Request(runtime.mcp, data=json.dumps(message).encode(), method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"})
        try:
            urllib.request.urlopen(req, timeout=30)
            raise AssertionError("expected 413")
        except urllib.error.HTTPError as exc:
            assert exc.code == 413 and json.loads(exc.read())["error"] == "payload_too_large"
        assert mcp_call(runtime.mcp, "echo")[0] == 200  # a normal call still goes through
    finally:
        runtime.stop()


def test_concurrency_limit_503_with_retry_after(tmp_path: Path, capability: Path, upstream: OpsUpstream, http_client: str) -> None:
    runtime = start(capability, log=tmp_path / "run.log", env=SECRET_ENV,
                    extra=["--upstream", f"*={upstream.url}", "--max-concurrency", "1", "--http-client", http_client])
    try:
        held: list[int] = []
        thread = threading.Thread(target=lambda: held.append(request("GET", f"{runtime.rest}/slow")[0]))
        thread.start()
        poll(lambda: upstream.in_slow == 1, timeout=10)
        status, headers, body = request("GET", f"{runtime.rest}/echo")
        assert status == 503 and body["error"] == "upstream_busy" and headers["Retry-After"] == "1"
        _, _, answer = mcp_call(runtime.mcp, "echo")
        assert answer["result"]["isError"] is True
        assert answer["result"]["structuredContent"]["error"]["retry_after"] == 1
        # the other namespace is not affected
        assert request("GET", f"{runtime.rest}/keyed-error")[0] == 401
        upstream.release()
        thread.join(30)
        assert held == [200]
        assert request("GET", f"{runtime.rest}/echo")[0] == 200
    finally:
        runtime.stop()


def test_every_version_swapped_in_by_watch_is_counted(tmp_path: Path, capability: Path, upstream: OpsUpstream) -> None:
    """Metrics are layers each invoker gets when it is built: an invoker loaded by --watch (whatever
    address it happens to reuse) counts its calls like the first one."""
    runtime = start(capability, log=tmp_path / "run.log", env=SECRET_ENV,
                    extra=["--upstream", f"*={upstream.url}", "--metrics-port", "0",
                           "--watch", "--watch-interval", "0.1"])
    metrics = f"http://127.0.0.1:{runtime.port('metrics')}/metrics"
    original = "    - path: /echo\n      operations: [{method: GET, name: echo, call: svc.get-echo}]\n"
    assert original in CAPABILITY
    try:
        assert request("GET", f"{runtime.rest}/echo")[0] == 200
        for version in range(1, 6):
            edited = CAPABILITY.replace(original, original.replace("/echo", f"/v{version}").replace("name: echo", f"name: v{version}"))
            capability.write_text(edited)
            poll(lambda v=version: request("GET", f"{runtime.rest}/v{v}")[0] == 200, timeout=15)
            assert request("GET", f"{runtime.rest}/v{version}")[0] == 200
            samples = metric_samples(metrics)
            assert _value(samples, "naftiko_request", "_total", adapter="ops", operation=f"v{version}", status="200") == 2
            assert _value(samples, "naftiko_http_client", "_total", namespace="svc", operation="get-echo", status_code="200") == 1 + 2 * version
    finally:
        runtime.stop()


async def test_reload_counts_the_new_invoker_even_at_a_reused_address(tmp_path: Path, upstream: OpsUpstream) -> None:
    """Issue 17: metrics once keyed on `id(invoker)`, so a reloaded invoker at a freed one's address went uncounted.

    Reload (in process, collecting the old versions) until a new invoker reuses an address, then count its calls."""
    import gc

    import aiohttp

    from naftiko_runtime.runtime import RunOptions
    from naftiko_runtime.runtime import Runtime as Served

    file = tmp_path / "ops.yaml"
    file.write_text(CAPABILITY)
    served = Served(RunOptions(files=[file], rest_port=0, mcp_port=0, metrics_port=0, env=dict(SECRET_ENV),
                               upstreams={"*": upstream.url}, watch=True))
    await served.start()
    try:
        rest = f"http://127.0.0.1:{served.started[('rest', 'ops')]}"
        metrics_url = next(e.split(" ", 1)[1] for e in served.endpoints if e.startswith("metrics ")) + "/metrics"
        seen = {id(served.invokers[0])}
        reused = False
        async with aiohttp.ClientSession() as client:
            for version in range(1, 400):  # an address is reused within ~150 reloads (CPython)
                file.write_text(CAPABILITY.replace("name: echo, call", f"name: v{version}, call"))
                gc.collect()
                assert await served.reload(0)
                address = id(served.invokers[0])
                reused = address in seen
                seen.add(address)
                if version > 1 and not reused:
                    continue
                async with client.get(f"{rest}/echo") as response:
                    assert response.status == 200
                async with client.get(metrics_url) as response:
                    text = await response.text()
                from prometheus_client.parser import text_string_to_metric_families

                samples = {f.name: f.samples for f in text_string_to_metric_families(text)}
                assert _value(samples, "naftiko_request", "_total", adapter="ops", operation=f"v{version}", status="200") == 1
                if reused:
                    break
        assert reused, "no reloaded invoker reused a freed address: the case this test is for did not occur"
    finally:
        await served.stop()
