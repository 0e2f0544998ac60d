"""The REST server itself: auth, declared inputs, several files, conflicts, ports, logs, graceful stop, OpenAPI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from openapi_spec_validator import validate
from ruamel.yaml import YAML

from naftiko_runtime.cli import main
from tests.support.paths import CAPABILITIES, SEEDED, SHIPPED
from tests.support.runtime import Runtime, poll, request, start, start_process
from tests.support.threaded_upstream import ThreadedUpstream

GUARDED = """\
naftiko: 1.0.0-alpha2
info: {label: Guarded, description: Exposed auth and declared inputs.}
binds:
- namespace: env
  keys: {GUARD_TOKEN: GUARD_TOKEN}
capability:
  consumes:
  - type: http
    namespace: items
    baseUri: http://127.0.0.1:9
    resources:
    - name: item
      path: /items/{{id}}
      operations:
      - name: get-item
        method: GET
        inputParameters:
        - {name: limit, in: query}
    - name: slow
      path: /slow/{{id}}
      operations:
      - name: get-slow
        method: GET
  exposes:
  - type: rest
    namespace: guarded
    port: 8080
    authentication: {type: bearer, token: "{{GUARD_TOKEN}}"}
    resources:
    - path: /items/{id}
      operations:
      - method: GET
        name: get-item
        inputParameters:
        - {name: id, in: path, type: string, description: Item id., pattern: "^[a-z0-9-]+$"}
        - {name: limit, in: query, type: integer, description: How many.}
        call: items.get-item
    - path: /slow/{id}
      operations:
      - method: GET
        name: get-slow
        call: items.get-slow
"""
TOKEN = "s3cr3t-guard-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def upstream() -> Iterator[ThreadedUpstream]:
    with ThreadedUpstream() as up:
        yield up


@pytest.fixture()
def guarded(tmp_path: Path, upstream: ThreadedUpstream) -> Iterator[Runtime]:
    file = tmp_path / "guarded.yaml"
    file.write_text(GUARDED)
    runtime = start(file, log=tmp_path / "run.log", extra=["--upstream", f"items={upstream.url}", "--log-format", "json"], env={"GUARD_TOKEN": TOKEN})
    yield runtime
    runtime.stop()


def test_exposed_bearer_auth_is_enforced_and_never_relayed(guarded: Runtime, upstream: ThreadedUpstream) -> None:
    status, headers, body = request("GET", f"{guarded.rest}/items/abc")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer") and body["error"] == "unauthorized"
    status, _, body = request("GET", f"{guarded.rest}/items/abc", headers={"Authorization": "Bearer wrong"})
    assert status == 401
    assert upstream.requests == [], "nothing reaches the upstream before authentication"
    status, _, body = request("GET", f"{guarded.rest}/items/abc?limit=5", headers=AUTH)
    assert status == 200 and body["target"] == "/items/abc?limit=5"
    assert body["auth"] is None, "the caller's Authorization header is not relayed upstream"


def test_declared_inputs_are_checked_before_any_upstream_call(guarded: Runtime, upstream: ThreadedUpstream) -> None:
    status, _, body = request("GET", f"{guarded.rest}/items/ABC", headers=AUTH)
    assert status == 400 and body["parameter"] == "id" and "must match" in body["message"]
    status, _, body = request("GET", f"{guarded.rest}/items/abc?limit=many", headers=AUTH)
    assert status == 400 and body["parameter"] == "limit" and "integer" in body["message"]
    assert upstream.requests == []


def test_json_access_log_redacts_secrets(guarded: Runtime) -> None:
    request("GET", f"{guarded.rest}/items/abc", headers=AUTH)
    lines = poll(lambda: [json.loads(x) for x in guarded.logs().splitlines() if '"event": "request"' in x])
    entry = lines[-1]
    assert {"time", "level", "event", "method", "route", "status", "upstream_status", "duration_ms", "request_id"} <= set(entry)
    assert entry["route"] == "/items/{id}" and entry["status"] == 200 and entry["upstream_status"] == 200
    assert TOKEN not in guarded.logs()


def test_sigterm_finishes_in_flight_requests(tmp_path: Path, upstream: ThreadedUpstream) -> None:
    file = tmp_path / "guarded.yaml"
    file.write_text(GUARDED)
    guarded = start_process(file, log=tmp_path / "run.log", extra=["--upstream", f"items={upstream.url}"], env={"GUARD_TOKEN": TOKEN})
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(r=request("GET", f"{guarded.rest}/slow/one", headers=AUTH)))
    worker.start()
    assert upstream.arrived.wait(10)
    guarded.proc.send_signal(15)
    upstream.release()
    worker.join(20)
    status, _, body = result["r"]  # type: ignore[misc]
    assert status == 200 and body["path"] == "/slow/one"
    assert guarded.proc.wait(20) == 0


def test_several_files_share_one_port(tmp_path: Path) -> None:
    runtime = start(*SEEDED, log=tmp_path / "run.log")
    try:
        status, _, runs = request("GET", f"{runtime.rest}/v1/orgs/demo-org/pipeline-runs")
        assert status == 200 and isinstance(runs, list)
        status, _, body = request("GET", f"{runtime.rest}/v1/orgs/demo-org/apps/demo-app/webhooks")
        assert not (status == 404 and body.get("error") == "not_found"), "routes of every file are served"
        status, _, body = request("GET", f"{runtime.rest}/v1/v1/runs/01HZZZZZZZZZZZZZZZZZZZZZZZ")
        assert not (status == 404 and isinstance(body, dict) and body.get("error") == "not_found")
        _, _, ready = request("GET", f"{runtime.rest}/health/ready")
        assert {n["namespace"] for n in ready["namespaces"]} == {"humanitec-pipelineruns", "humanitec-event", "inngest-runs"}
    finally:
        runtime.stop()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "naftiko_runtime", "run", *args], capture_output=True, text=True, timeout=60)


def test_colliding_routes_name_both_files(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text((CAPABILITIES / "inngest-runs.yaml").read_text())
    proc = _run(str(CAPABILITIES / "inngest-runs.yaml"), str(copy), "--rest-port", "0", "--mcp-port", "0", "--engine-port", "0", "--engine-db", ":memory:")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "inngest-runs.yaml:" in proc.stderr and "copy.yaml:" in proc.stderr and "collides" in proc.stderr


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _run(str(CAPABILITIES / "inngest-runs.yaml"), "--rest-port", str(port), "--mcp-port", "0", "--engine-port", "0", "--engine-db", ":memory:")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("naftiko run:")]
    assert errors == [f"naftiko run: rest inngest-runs-rest: cannot listen on 127.0.0.1:{port}: address already in use"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_export_openapi_is_valid_and_typed(tmp_path: Path, path: Path) -> None:
    out = tmp_path / "openapi.yaml"
    result = CliRunner().invoke(main, ["export", "openapi", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = YAML(typ="safe").load(out.read_text())
    validate(document)
    assert document["openapi"] == "3.1.0"
    for item in document["paths"].values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                assert param["schema"].get("type"), param
    if path.name == "humanitec-pipelineruns.yaml":
        post = document["paths"]["/v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs"]["post"]
        names = {p["name"]: p for p in post["parameters"]}
        assert names["dry_run"]["schema"]["type"] == "boolean" and names["pipelineid"]["required"] is True
        assert post["requestBody"]["required"] is True


def test_export_openapi_lists_security_without_secret(tmp_path: Path) -> None:
    file = tmp_path / "guarded.yaml"
    file.write_text(GUARDED)
    result = CliRunner().invoke(main, ["export", "openapi", str(file), "--format", "json"], env={"GUARD_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    validate(document)
    assert document["components"]["securitySchemes"] == {"guarded-auth": {"type": "http", "scheme": "bearer"}}
    assert TOKEN not in result.output
    assert document["paths"]["/items/{id}"]["get"]["parameters"][0]["schema"]["pattern"] == "^[a-z0-9-]+$"
