"""Issue 15's last readings of a call that names nothing declared, each on a minimal copy of the construct a
published file uses, each with a located warning, each refused at `--strict`:

- operations declared several times alike (same method, base URI, full path, authentication) are one request
  (slack/app-platform.yaml repeats one consumes entry ten times; `slack-apps.list` means its one `list`);
- a bare verb (`list`, here `fetch`) is the one operation that does it to something (`list-signals`), as in
  factset/company-research.yaml; two different such requests leave the call unresolved (market-data-pricing.yaml);
- `get-volumes` spells resource `volumes`' own GET (the one whose path ends in `/volumes`), as in
  pure-storage/storage-fleet-management.yaml, never `get-volumes-diff`;
- a consumed resource without `path` whose operations each give their own path is served (pure-storage again).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from naftiko_runtime.capability.loader import load
from naftiko_runtime.logs import LOGGER

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

CHAT = """\
  - type: http
    namespace: team-chat
    baseUri: https://chat.example.com/api
    resources:
    - name: api
      path: /
      operations:
      - {name: list, method: POST}
"""

FILE = f"""\
naftiko: 1.0.0-alpha2
info: {{label: Guessed operations, description: Calls written loosely.}}
capability:
  consumes:
{CHAT}{CHAT}  - type: http
    namespace: signals
    baseUri: https://signals.example.com
    resources:
    - name: signals
      path: /signals
      operations:
      - {{name: fetch-signals, method: GET}}
  - type: http
    namespace: store
    baseUri: https://store.example.com/v2
    resources:
    - name: volumes
      operations:
      - {{name: get-api-volumes, method: GET, path: /volumes}}
      - {{name: get-volumes-diff, method: GET, path: /volumes/diff}}
      - {{name: post-api-volumes, method: POST, path: /volumes}}
    - name: pods
      operations:
      - {{name: get-pods-volumes, method: GET, path: /pods/volumes}}
  exposes:
  - type: rest
    port: 8080
    namespace: api
    resources:
    - path: /apps
      operations:
      - {{method: GET, name: apps, call: team-apps.list}}
    - path: /chat
      operations:
      - {{method: GET, name: chat, call: team-chat.list}}
    - path: /entities
      operations:
      - {{method: GET, name: entities, call: entity-data.fetch}}
    - path: /signals
      operations:
      - {{method: GET, name: signals, call: signals.fetch}}
    - path: /volumes
      operations:
      - {{method: GET, name: volumes, call: store.get-volumes}}
    - path: /alerts
      operations:
      - {{method: GET, name: alerts, call: store.get-alerts}}
  - type: mcp
    port: 9090
    namespace: tools
    tools:
    - {{name: apps, description: The apps., call: team-apps.list}}
    - {{name: entities, description: The entities., call: entity-data.fetch}}
    - {{name: volumes, description: The volumes., call: store.get-volumes}}
"""

#: Two different requests a bare `list` could mean: the call stays unresolved, naming both.
AMBIGUOUS = """\
naftiko: 1.0.0-alpha2
info: {label: Ambiguous, description: Two readings.}
capability:
  consumes:
  - type: http
    namespace: prices
    baseUri: https://data.example.com/content
    resources:
    - {name: prices, path: /, operations: [{name: list-global-prices, method: GET}]}
  - type: http
    namespace: signals
    baseUri: https://data.example.com
    resources:
    - {name: signals, path: /, operations: [{name: list-signals, method: GET}]}
  exposes:
  - type: mcp
    port: 9090
    namespace: tools
    tools:
    - {name: quotes, description: Quotes., call: rt-quotes.list}
    - {name: prices, description: Prices., call: prices.list}
"""


def _write(tmp_path: Path, text: str, name: str = "cap.yaml") -> Path:
    file = tmp_path / name
    file.write_text(text)
    return file


def test_each_reading_resolves_with_a_located_warning(tmp_path: Path) -> None:
    result = load(_write(tmp_path, FILE))
    assert result.ok, [str(d) for d in result.errors]
    cap = result.capability
    rest = next(a for a in cap.adapters if a.type == "rest")
    called = {op.action.name: op.action.call.operation if op.action.call else None for res in rest.resources for op in res.operations}
    assert (called["apps"].namespace, called["apps"].method, called["apps"].path.raw) == ("team-chat", "POST", "/")
    assert called["entities"].name == called["signals"].name == "fetch-signals"
    assert (called["volumes"].name, called["volumes"].path.raw) == ("get-api-volumes", "/volumes")
    assert called["alerts"] is None  # no resource `alerts`: still a named defect
    lines = FILE.splitlines()
    warned = {d.code: [] for d in result.warnings}
    for d in result.warnings:
        warned[d.code].append(d)
    for code in ("guessed-namespace", "guessed-operation"):
        assert warned[code] and all("call: " in lines[d.line - 1] and d.col > 1 for d in warned[code]), code
    (duplicate,) = warned["duplicate-operation"]  # named in its own namespace: one request, not an ambiguity
    assert "declared 2 times in 'team-chat'" in duplicate.message and "ambiguous-operation" not in warned
    assert called["chat"] is called["apps"]
    apps = next(d for d in warned["guessed-namespace"] if "'team-apps.list'" in d.message)
    assert "declared 2 times alike" in apps.message and "Write 'team-chat.list'" in apps.message
    volumes = next(d for d in warned["guessed-operation"] if "'store.get-volumes'" in d.message)
    assert "'store.volumes.get-api-volumes'" in volumes.message
    (no_path,) = [d for d in result.warnings if d.code == "resource-path-from-operations" and "pods" not in d.message][:1]
    assert "name: volumes" in lines[no_path.line - 1]
    unresolved = [d.message for d in result.diagnostics if d.code == "unresolved-call"]
    assert len(unresolved) == 1 and "store.get-alerts" in unresolved[0]


def test_two_different_requests_leave_the_call_unresolved(tmp_path: Path) -> None:
    result = load(_write(tmp_path, AMBIGUOUS))
    unresolved = [d.message for d in result.diagnostics if d.code == "unresolved-call"]
    assert len(unresolved) == 1 and "rt-quotes.list" in unresolved[0]
    assert "2 different requests" in unresolved[0] and "list-global-prices" in unresolved[0] and "list-signals" in unresolved[0]
    # within its own namespace the bare verb has one reading
    tools = {t.name: t.call for t in result.capability.adapters[0].tools}
    assert tools["prices"] is not None and tools["prices"].operation.name == "list-global-prices"


def test_different_duplicates_are_not_one_request(tmp_path: Path) -> None:
    text = FILE.replace(CHAT + CHAT, CHAT + CHAT.replace("path: /", "path: /other"))
    result = load(_write(tmp_path, text))
    unresolved = [d.message for d in result.diagnostics if d.code == "unresolved-call"]
    assert any("team-apps.list" in m and "2 different requests" in m for m in unresolved), unresolved


def test_a_resource_without_path_needs_every_operation_to_have_one(tmp_path: Path) -> None:
    text = FILE.replace("      - {name: post-api-volumes, method: POST, path: /volumes}",
                        "      - {name: post-api-volumes, method: POST}")
    result = load(_write(tmp_path, text))
    assert any("'path' is required for a consumed resource" in d.message for d in result.errors)


def test_strict_refuses_every_reading(tmp_path: Path) -> None:
    result = load(_write(tmp_path, FILE), strict=True)
    codes = {d.code for d in result.errors}
    assert {"guessed-namespace", "guessed-operation", "resource-path-from-operations"} <= codes, codes
    assert result.refused(strict=True)


async def test_the_readings_route_on_both_adapters_and_warn_at_start(
        tmp_path: Path, upstream: RecordingUpstream, caplog: pytest.LogCaptureFixture) -> None:
    file = _write(tmp_path, FILE)
    upstream.route("POST", "/api/", reply(json={}))
    upstream.route("GET", "/signals", reply(json=[]))
    upstream.route("GET", "/v2/volumes", reply(json=[]))
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        async with serve(file, {"*": upstream.url}) as served, served.mcp("tools") as client:
            base = served.rest("api")
            answers = [await served.call("GET", base + path) for path in ("/apps", "/entities", "/volumes", "/alerts")]
            tools = [await client.call_tool(name, {}) for name in ("apps", "entities", "volumes")]
    started = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    line = FILE.splitlines().index("      - {method: GET, name: volumes, call: store.get-volumes}") + 1
    assert any(f"{file}:{line}:" in m and "'store.get-volumes'" in m for m in started), started
    assert [status for status, _ in answers] == [200, 200, 200, 503], answers
    assert not any(t.is_error for t in tools), tools
    assert [(r.method, r.raw_path) for r in upstream.requests] == [
        ("POST", "/api/"), ("GET", "/signals"), ("GET", "/v2/volumes"),
        ("POST", "/api/"), ("GET", "/signals"), ("GET", "/v2/volumes"),
    ]


def test_inspect_shows_each_guess_where_it_is_written(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from naftiko_runtime.cli.app import main

    file = _write(tmp_path, FILE)
    result = CliRunner().invoke(main, ["inspect", str(file)])
    assert result.exit_code == 0, result.output
    line = FILE.splitlines().index("      - {method: GET, name: volumes, call: store.get-volumes}") + 1
    assert f"{file}:{line}:" in result.stderr and "guessed" not in result.stdout
    assert "'store.volumes.get-api-volumes'" in result.stderr
    assert "GET https://store.example.com/v2/volumes" in result.stdout  # the route lists the call it makes


RESPELLED = """\
naftiko: 1.0.0-alpha2
info: {label: Respelled, description: Calls naming camelCase operations in kebab-case.}
capability:
  consumes:
  - type: http
    namespace: browser-devtools
    baseUri: https://devtools.example.com
    resources:
    - name: targets
      path: /json
      operations:
      - {name: listTargets, method: GET}
    - name: target
      path: /json/new
      operations:
      - {name: openTarget, method: PUT}
  exposes:
  - type: rest
    port: 8080
    namespace: tabs-rest
    resources:
    - path: /tabs
      operations:
      - {method: GET, name: list, call: browser-devtools.list-targets}
      - {method: PUT, name: open, call: devtools.open-target}
"""


async def test_a_call_naming_an_operation_in_another_case_or_with_other_separators_reaches_it(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    """`list-targets` for `listTargets`, and (through the namespace's suffix variant) `open-target` for `openTarget`."""
    file = tmp_path / "respelled.yaml"
    file.write_text(RESPELLED)
    result = load(file)
    guessed = [(d.line, d.code) for d in result.diagnostics if d.code in ("guessed-operation", "guessed-namespace")]
    assert (24, "guessed-operation") in guessed and (25, "guessed-namespace") in guessed, result.diagnostics
    assert all(d.severity == "warning" for d in result.diagnostics if d.code.startswith("guessed-"))
    assert load(file, strict=True).ok is False
    upstream.route("GET", "/json", reply(json=[]))
    upstream.route("PUT", "/json/new", reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        get_status, text = await served.call("GET", served.rest("tabs-rest") + "/tabs")
        put_status, text2 = await served.call("PUT", served.rest("tabs-rest") + "/tabs", json={})
    assert (get_status, put_status) == (200, 200), (text, text2)
    assert [(r.method, r.raw_path) for r in upstream.requests] == [("GET", "/json"), ("PUT", "/json/new")]


OPERATION_ID = """\
naftiko: 1.0.0-alpha2
info: {label: OperationIds, description: Consumed operations named by upstream operationIds.}
capability:
  consumes:
  - type: http
    namespace: gateway
    baseUri: https://gateway.example.com
    resources:
    - name: completions
      path: /chat/completions
      operations:
      - {name: Gateway_ChatCompletions, method: POST}
  exposes:
  - type: mcp
    port: 9090
    namespace: gateway-mcp
    tools:
    - {name: complete, description: Complete a chat., call: gateway.gateway-chat-completions}
"""


async def test_an_operation_named_by_an_operation_id_is_served_and_reached_respelled(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    """`Gateway_ChatCompletions` used to disable its operation (not kebab); a call can only write it kebab-cased."""
    file = tmp_path / "operation-id.yaml"
    file.write_text(OPERATION_ID)
    result = load(file)
    assert result.ok, result.diagnostics
    assert [(d.severity, d.line) for d in result.diagnostics if d.code == "operation-name-chars"] == [("warning", 12)]
    assert load(file, strict=True).ok is False
    upstream.route("POST", "/chat/completions", reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        async with served.mcp("gateway-mcp") as client:
            tool = await client.call_tool("complete", {})
    assert not tool.is_error, tool
    assert [(r.method, r.raw_path) for r in upstream.requests] == [("POST", "/chat/completions")]


UNDERSCORES = """\
naftiko: 1.0.0-alpha2
info: {label: Underscores, description: A namespace and an operation named with underscores.}
capability:
  consumes:
  - type: http
    namespace: migration_hub
    baseUri: https://hub.example.com
    resources:
    - name: artifacts
      path: /artifacts
      operations:
      - {name: add_2, method: POST}
  exposes:
  - type: mcp
    port: 9090
    namespace: hub-mcp
    tools:
    - {name: add, description: Add an artifact., call: migration_hub.add_2}
"""


async def test_a_namespace_and_call_with_underscores_are_used_as_written(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    """`migration_hub` used to disable the whole consumes and `migration_hub.add_2` the tool calling it."""
    file = tmp_path / "underscores.yaml"
    file.write_text(UNDERSCORES)
    result = load(file)
    assert result.ok, result.diagnostics
    assert [d.line for d in result.diagnostics if d.code == "identifier-underscore"] == [6, 18]
    assert load(file, strict=True).ok is False
    upstream.route("POST", "/artifacts", reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        async with served.mcp("hub-mcp") as client:
            tool = await client.call_tool("add", {})
    assert not tool.is_error, tool
    assert [(r.method, r.raw_path) for r in upstream.requests] == [("POST", "/artifacts")]
