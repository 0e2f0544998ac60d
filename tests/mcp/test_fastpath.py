"""The tools/call fast path answers exactly what the SDK answers: the same requests are sent
to a runtime with it and to one without it (NAFTIKO_MCP_FASTPATH=0), and the answers compared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from naftiko_runtime.exposes.mcp.fastpath import plain_tool_call
from naftiko_runtime.exposes.mcp.server import plain_object_check

from .conftest import Running, post_json, start_runtime

CAPABILITY = """naftiko: 1.0.0-alpha2
info: {label: Fast path, description: Mock tools for comparing the fast path with the SDK.}
capability:
  consumes:
    - type: http
      namespace: dead
      baseUri: http://127.0.0.1:9
      resources:
        - name: things
          path: /things
          operations:
            - {name: list-things, method: GET}
  exposes:
    - type: mcp
      namespace: fast
      port: 3001
      description: Mock tools.
      tools:
        - name: greet
          description: A greeting from declared inputs.
          inputParameters:
            - {name: who, type: string, description: Whom to greet.}
            - {name: times, type: integer, description: How often., required: false}
          outputParameters:
            - {name: greeting, type: string, value: "hello {{who}} ✓"}
        - name: things
          description: An upstream that cannot be reached.
          call: dead.list-things
"""

CALLS = [
    {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "greet", "arguments": {"who": "ada"}}},
    {"jsonrpc": "2.0", "id": "s-2", "method": "tools/call", "params": {"name": "greet", "arguments": {"who": "ada", "times": 2}}},
    {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "greet", "arguments": {"who": 5}}},
    {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "greet", "arguments": {}}},
    {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "greet", "arguments": {"who": "a", "extra": 1}}},
    {"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "greet", "arguments": {"who": "a", "times": 1.0}}},
    {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "nope", "arguments": {}}},
    {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "things"}},
    {"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {}},
    {"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "greet", "arguments": {"who": "b"}, "_meta": {"progressToken": 1}}},
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Running]]:
    tmp = tmp_path_factory.mktemp("fastpath")
    file = tmp / "fast.yaml"
    file.write_text(CAPABILITY)
    fast = start_runtime(file, tmp / "fast.log")
    try:
        sdk = start_runtime(file, tmp / "sdk.log", env={"NAFTIKO_MCP_FASTPATH": "0"})
    except Exception:
        fast.stop()
        raise
    yield fast, sdk
    fast.stop()
    sdk.stop()


@pytest.mark.parametrize("call", CALLS, ids=[f"{c['id']}-{c['params'].get('name', c['method'])}" for c in CALLS])
@pytest.mark.parametrize("version", [None, "2025-06-18"])
def test_fast_path_answers_as_the_sdk_does(pair: tuple[Running, Running], call: dict, version: str | None) -> None:
    headers = {"mcp-protocol-version": version} if version else {}
    fast, sdk = (post_json(r.url, call, headers) for r in pair)
    assert fast[0] == sdk[0]
    assert fast[1].get("Content-Type") == sdk[1].get("Content-Type")
    assert fast[2] == sdk[2]


def test_only_plain_tool_calls_take_the_fast_path() -> None:
    assert plain_tool_call(b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}}') == (1, "t", None)
    for body in (
        b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}',
        b'[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}}]',
        b'{"jsonrpc":"2.0","id":true,"method":"tools/call","params":{"name":"t"}}',
        b'{"jsonrpc":"2.0","method":"tools/call","params":{"name":"t"}}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{}}}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":[]}}',
        b"not json",
    ):
        assert plain_tool_call(body) is None, body


def test_surely_valid_is_never_wrong() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "description": "x"}, "n": {"type": "integer"},
                                               "l": {"type": "array", "items": {}}}, "required": ["a"]}
    check = plain_object_check(schema)
    assert check({"a": "x", "n": 1, "l": []}) and check({"a": "x", "other": 1})
    for bad in ({}, {"a": 1}, {"a": "x", "n": True}, {"a": "x", "n": 1.5}, {"a": "x", "l": {}}, []):
        assert not check(bad)
    assert not check({"a": "x", "n": 1.0})  # valid for jsonschema, but not *surely*: jsonschema decides
    assert not plain_object_check({**schema, "properties": {"a": {"type": "string", "pattern": "^x"}}})({"a": "x"})
    assert not plain_object_check({"type": "object", "properties": {}, "additionalProperties": False})({"b": 1})
