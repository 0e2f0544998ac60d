"""The local engine requires a well-formed bearer token (seed 001): a namespace the plan sends to
the engine without credentials carries a stand-in, and a live namespace never does."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.runtime import RunOptions
from naftiko_runtime.runtime.plan import LOCAL_ENGINE_TOKEN, plan_file
from tests.support.paths import CAPABILITIES

TWO_NAMESPACES = """\
naftiko: 1.0.0-alpha2
info:
  label: Engine and live
  description: One namespace on the local engine, one live, each with its own unset token.
binds:
- namespace: tokens
  keys:
    ENGINE_TOKEN: ENGINE_TOKEN
    LIVE_TOKEN: LIVE_TOKEN
capability:
  consumes:
  - type: http
    namespace: engine
    baseUri: http://localhost:8700/api/v1
    authentication: {type: bearer, token: '{{ENGINE_TOKEN}}'}
    resources:
    - name: pipelines
      path: /pipelines
      operations:
      - {name: list-pipelines, method: GET}
  - type: http
    namespace: live
    baseUri: https://api.example.com
    authentication: {type: bearer, token: '{{LIVE_TOKEN}}'}
    resources:
    - name: things
      path: /things
      operations:
      - {name: list-things, method: GET}
  exposes:
  - type: rest
    namespace: api
    port: 8080
    resources:
    - path: /pipelines
      operations:
      - {method: GET, call: engine.list-pipelines}
    - path: /things
      operations:
      - {method: GET, call: live.list-things}
"""


def test_an_engine_namespace_without_credentials_sends_a_stand_in_token() -> None:
    entry = plan_file(CAPABILITIES / "local-pipelines.yaml", RunOptions(files=[], env={}))
    assert [m.mode for m in entry.modes] == ["local-engine"]
    assert entry.binds.values["LOCAL_PIPELINES_TOKEN"] == LOCAL_ENGINE_TOKEN


def test_a_live_namespace_never_gets_the_stand_in(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(TWO_NAMESPACES)
    entry = plan_file(path, RunOptions(files=[], env={}))
    assert {m.namespace: m.mode for m in entry.modes} == {"engine": "local-engine", "live": "live"}
    assert entry.binds.values.get("ENGINE_TOKEN") == LOCAL_ENGINE_TOKEN
    assert not entry.binds.values.get("LIVE_TOKEN")


def test_a_set_token_is_kept() -> None:
    entry = plan_file(CAPABILITIES / "local-pipelines.yaml", RunOptions(files=[], env={"LOCAL_PIPELINES_TOKEN": "mine"}, mode="local"))
    assert entry.binds.values["LOCAL_PIPELINES_TOKEN"] == "mine"
