"""One test per reference-engine failure of notes §4, showing what this runtime does instead."""

from __future__ import annotations

from typing import Any

import pytest

from naftiko_runtime.errors import InputError
from naftiko_runtime.invoke.output import NOTHING

from ..conftest import HTTP_CLIENTS
from ..support.recording_upstream import reply
from .conftest import SEEDED_DIR, load_capability
from .helpers import mcp_incoming, rest_action, rest_incoming, tool


@pytest.fixture(params=HTTP_CLIENTS)
def http_client(request: pytest.FixtureRequest) -> str:
    """Overrides the suite's aiohttp-only fixture: the same failures over either client."""
    return str(request.param)

EVENT = SEEDED_DIR / "humanitec-event.yaml"
RUNS = SEEDED_DIR / "humanitec-pipelineruns.yaml"
INNGEST = SEEDED_DIR / "inngest-runs.yaml"


async def test_single_brace_placeholders_are_substituted(upstream: Any, make_invoker: Any) -> None:
    """Consumed `/orgs/{orgId}/apps/{appId}/webhooks/{jobId}`: the reference sends the braces literally."""
    upstream.route("GET", "/orgs/acme/apps/shop/webhooks/wh-9", reply(json={"id": "wh-9"}))
    cap = load_capability(EVENT)
    outcome = await make_invoker(cap).invoke(tool(cap, "get-webhook"), mcp_incoming({"orgId": "acme", "appId": "shop", "jobId": "wh-9"}))
    [seen] = upstream.requests
    assert seen.raw_path == "/orgs/acme/apps/shop/webhooks/wh-9"
    assert "{" not in seen.target and "%7B" not in seen.target
    assert outcome.data == {"id": "wh-9"}


async def test_lowercase_exposed_path_variables_fill_camelcase_placeholders(upstream: Any, make_invoker: Any) -> None:
    """Exposed `{orgid}`/`{runid}` fill consumed `{orgId}`/`{runId}` (case-insensitive), with no inputParameters declared."""
    path = "/orgs/acme/apps/shop/pipelines/p1/runs/r1/jobs/j1/steps/0/logs"
    upstream.route("GET", path, reply(json=[{"line": "hello"}]))
    cap = load_capability(RUNS)
    action = rest_action(
        cap, "GET", "/v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs/{runid}/jobs/{jobid}/steps/{stepindex}/logs"
    )
    incoming = rest_incoming({"orgid": "acme", "appid": "shop", "pipelineid": "p1", "runid": "r1", "jobid": "j1", "stepindex": "0"})
    outcome = await make_invoker(cap).invoke(action, incoming)
    assert [r.raw_path for r in upstream.requests] == [path]
    assert outcome.data == [{"line": "hello"}]


async def test_missing_path_value_is_a_clear_400_and_nothing_is_sent(upstream: Any, make_invoker: Any) -> None:
    """The reference renders a missing value as "" (`/orgs//apps/...`); we refuse, naming the parameter."""
    cap = load_capability(EVENT)
    with pytest.raises(InputError) as caught:
        await make_invoker(cap).invoke(tool(cap, "get-webhook"), mcp_incoming({"orgId": "acme", "appId": "shop"}))
    assert caught.value.status == 400
    assert "jobId" in caught.value.message
    assert upstream.requests == []


@pytest.mark.parametrize("dry_run", [None, "true", "false"])
async def test_rest_reference_is_forwarded_as_value_or_omitted(dry_run: str | None, upstream: Any, make_invoker: Any) -> None:
    """`with: dry_run: rest.dry_run`: the reference sends `?dry_run=rest.dry_run` on every call."""
    upstream.route("POST", "/orgs/acme/apps/shop/pipelines/p1/runs", reply(201, json={"id": "run-1"}))
    cap = load_capability(RUNS)
    action = rest_action(cap, "POST", "/v1/orgs/{orgid}/apps/{appid}/pipelines/{pipelineid}/runs")
    query = [("dry_run", dry_run)] if dry_run is not None else []
    outcome = await make_invoker(cap).invoke(
        action, rest_incoming({"orgid": "acme", "appid": "shop", "pipelineid": "p1"}, query=query, body={"inputs": {}})
    )
    [seen] = upstream.requests
    assert seen.query == query
    assert "rest." not in seen.target
    assert outcome.status == 201 and outcome.data == {"id": "run-1"}


@pytest.mark.parametrize("args, query", [({}, []), ({"dry_run": True}, [("dry_run", "true")]), ({"dry_run": False}, [("dry_run", "false")])])
async def test_tools_reference_is_forwarded_as_value_or_omitted(args: dict, query: list, upstream: Any, make_invoker: Any) -> None:
    """`with: dry_run: tools.dry_run`: never the literal "tools.dry_run"; a false boolean is still a value."""
    upstream.route("POST", "/orgs/acme/apps/shop/pipeline-runs", reply(json={"id": "run-2"}))
    cap = load_capability(RUNS)
    incoming = mcp_incoming({"orgId": "acme", "appId": "shop", "body": {"trigger": "x"}, **args})
    await make_invoker(cap).invoke(tool(cap, "create-pipeline-run-appropriate-pipeline"), incoming)
    [seen] = upstream.requests
    assert seen.query == query
    assert "tools." not in seen.target and b"tools." not in seen.body


async def test_rest_body_reference_sends_the_incoming_json_body(upstream: Any, make_invoker: Any) -> None:
    """`body: rest.body` + consumed `in: body`: the reference sends no request body at all."""
    body = {"id": "wh-1", "url": "https://example.com/hook", "events": ["a", "b"], "nested": {"k": [1, 2.5, None]}}
    upstream.route("POST", "/orgs/acme/apps/shop/webhooks", reply(201, json={**body, "created": True}))
    cap = load_capability(EVENT)
    action = rest_action(cap, "POST", "/v1/orgs/{orgid}/apps/{appid}/webhooks")
    outcome = await make_invoker(cap).invoke(action, rest_incoming({"orgid": "acme", "appid": "shop"}, body=body))
    [seen] = upstream.requests
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json == body
    assert outcome.status == 201 and outcome.data == {**body, "created": True}


async def test_tools_body_reference_sends_the_body_argument(upstream: Any, make_invoker: Any) -> None:
    upstream.route("PATCH", "/orgs/acme/apps/shop/webhooks/wh-1", reply(json={"disabled": True}))
    cap = load_capability(EVENT)
    incoming = mcp_incoming({"orgId": "acme", "appId": "shop", "jobId": "wh-1", "body": {"disabled": True}})
    await make_invoker(cap).invoke(tool(cap, "update-webhook"), incoming)
    [seen] = upstream.requests
    assert seen.json == {"disabled": True}


async def test_missing_required_body_is_a_400_and_nothing_is_sent(upstream: Any, make_invoker: Any) -> None:
    cap = load_capability(EVENT)
    with pytest.raises(InputError) as caught:
        await make_invoker(cap).invoke(tool(cap, "create-new-webhook"), mcp_incoming({"orgId": "acme", "appId": "shop"}))
    assert caught.value.status == 400 and "body" in caught.value.message
    assert upstream.requests == []


async def test_object_mapping_root_passes_the_upstream_body_through(upstream: Any, make_invoker: Any) -> None:
    """`{type: object, mapping: $.}` without properties: the reference answers `{}` for every call."""
    answer = {"id": "r1", "status": "running", "jobs": [{"id": "j1", "steps": [{"index": 0}]}], "count": 0, "ok": False}
    upstream.route("GET", "/v1/runs/r1", reply(json=answer))
    cap = load_capability(INNGEST)
    outcome = await make_invoker(cap, env={"INNGEST_API_KEY": "k"}).invoke(tool(cap, "get-function-run-status"), mcp_incoming({"runId": "r1"}))
    assert outcome.data == answer


async def test_object_mapping_root_passes_an_upstream_error_through_with_its_status(upstream: Any, make_invoker: Any) -> None:
    upstream.route("GET", "/v1/runs/nope", reply(404, json={"error": "run_not_found", "message": "no run nope"}))
    cap = load_capability(INNGEST)
    outcome = await make_invoker(cap, env={"INNGEST_API_KEY": "k"}).invoke(tool(cap, "get-function-run-status"), mcp_incoming({"runId": "nope"}))
    assert outcome.status == 404 and outcome.is_error
    assert outcome.data == {"error": "run_not_found", "message": "no run nope"}
    assert outcome.message == "no run nope"


@pytest.mark.parametrize(
    "name, args, method, path",
    [
        ("delete-webhook", {"jobId": "wh-1"}, "DELETE", "/orgs/acme/apps/shop/webhooks/wh-1"),
        ("deletes-all-jobs-application", {}, "DELETE", "/orgs/acme/apps/shop/jobs"),
        ("get-webhook", {"jobId": "wh-1"}, "GET", "/orgs/acme/apps/shop/webhooks/wh-1"),
        ("list-webhooks", {}, "GET", "/orgs/acme/apps/shop/webhooks"),
        ("list-events", {}, "GET", "/orgs/acme/events"),
    ],
)
async def test_duplicate_operation_names_reach_the_right_resource(
    name: str, args: dict, method: str, path: str, upstream: Any, make_invoker: Any
) -> None:
    """`humanitec-event.delete` is declared twice; the reference's "Delete a Webhook" deletes all jobs of the app."""
    for m, p in [("DELETE", "/orgs/acme/apps/shop/jobs"), ("DELETE", "/orgs/acme/apps/shop/webhooks/wh-1"),
                 ("GET", "/orgs/acme/apps/shop/webhooks"), ("GET", "/orgs/acme/apps/shop/webhooks/wh-1"), ("GET", "/orgs/acme/events")]:
        upstream.route(m, p, reply(json={"route": f"{m} {p}"}))
    cap = load_capability(EVENT)
    incoming = mcp_incoming({"orgId": "acme", "appId": "shop", **args})
    outcome = await make_invoker(cap).invoke(tool(cap, name), incoming)
    assert [(r.method, r.raw_path) for r in upstream.requests] == [(method, path)]
    assert outcome.data == {"route": f"{method} {path}"}


async def test_rest_delete_webhook_reaches_the_webhook_not_all_jobs(upstream: Any, make_invoker: Any) -> None:
    upstream.route("DELETE", "/orgs/acme/apps/shop/webhooks/wh-1", reply(204))
    upstream.route("DELETE", "/orgs/acme/apps/shop/jobs", reply(204))
    cap = load_capability(EVENT)
    action = rest_action(cap, "DELETE", "/v1/orgs/{orgid}/apps/{appid}/webhooks/{jobid}")
    await make_invoker(cap).invoke(action, rest_incoming({"orgid": "acme", "appid": "shop", "jobid": "wh-1"}))
    assert [(r.method, r.raw_path) for r in upstream.requests] == [("DELETE", "/orgs/acme/apps/shop/webhooks/wh-1")]


BIND_CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {{label: binds, description: bind resolution}}
binds:
  - namespace: env
    keys:
      API_TOKEN: MY_TOKEN_VAR
  - namespace: vault
    location: {location}
    keys:
      VAULT_KEY: VAULT_KEY
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: https://upstream.invalid
      authentication:
        type: bearer
        token: '{token}'
      inputParameters:
        - name: X-Vault
          in: header
          value: '{{{{vault.VAULT_KEY}}}}'
      resources:
        - name: things
          path: /things
          operations:
            - name: list
              method: GET
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - name: list-things
          description: List things
          call: up.list
"""


@pytest.mark.parametrize("token", ["{{env.API_TOKEN}}", "{{API_TOKEN}}"])
async def test_binds_are_resolved_in_qualified_and_plain_form(token: str, upstream: Any, make_invoker: Any, write_capability: Any, tmp_path: Any) -> None:
    """The reference never injects binds: `{{env.INNGEST_API_KEY}}` renders "" upstream."""
    (tmp_path / "secrets.yaml").write_text("VAULT_KEY: from-file-42\n")
    cap = write_capability(BIND_CAPABILITY.format(location="file:///./secrets.yaml", token=token))
    upstream.route("GET", "/things", reply(json=[]))
    await make_invoker(cap, env={"MY_TOKEN_VAR": "tok-xyz"}).invoke(tool(cap, "list-things"), mcp_incoming({}))
    [seen] = upstream.requests
    assert seen.headers["Authorization"] == "Bearer tok-xyz"
    assert seen.headers["X-Vault"] == "from-file-42"


async def test_caller_values_cannot_override_binds(upstream: Any, make_invoker: Any, write_capability: Any, tmp_path: Any) -> None:
    (tmp_path / "secrets.yaml").write_text("VAULT_KEY: from-file-42\n")
    cap = write_capability(BIND_CAPABILITY.format(location="file:///./secrets.yaml", token="{{env.API_TOKEN}}"))
    upstream.route("GET", "/things", reply(json=[]))
    incoming = mcp_incoming({"API_TOKEN": "evil", "env": {"API_TOKEN": "evil"}, "vault": {"VAULT_KEY": "evil"}})
    await make_invoker(cap, env={"MY_TOKEN_VAR": "tok-xyz"}).invoke(tool(cap, "list-things"), incoming)
    [seen] = upstream.requests
    assert seen.headers["Authorization"] == "Bearer tok-xyz"
    assert seen.headers["X-Vault"] == "from-file-42"


JOIN_CAPABILITY = """\
naftiko: 1.0.0-alpha2
info: {{label: join, description: URL joining}}
capability:
  consumes:
    - type: http
      namespace: up
      baseUri: '{base}'
      resources:
        - name: runs
          path: '{path}'
          operations:
            - name: get
              method: GET
  exposes:
    - type: mcp
      namespace: t
      port: 9999
      tools:
        - name: get-run
          description: Get a run
          call: up.get
"""


@pytest.mark.parametrize(
    "base, path",
    [
        ("https://api.example.com/api", "/runs/{{id}}"),
        ("https://api.example.com/api/", "/runs/{{id}}"),
        ("https://api.example.com/api", "runs/{{id}}"),
        ("https://api.example.com/api/", "runs/{id}"),
    ],
)
async def test_exactly_one_slash_between_base_uri_and_path(base: str, path: str, upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    """`--upstream *=URL` without a path keeps the baseUri's path prefix; the join has exactly one `/`."""
    cap = write_capability(JOIN_CAPABILITY.format(base=base, path=path))
    upstream.route("GET", "/api/runs/7", reply(json={"id": 7}))
    outcome = await make_invoker(cap).invoke(tool(cap, "get-run"), mcp_incoming({"id": 7}))
    assert [r.raw_path for r in upstream.requests] == ["/api/runs/7"]
    assert outcome.data is NOTHING and outcome.raw == b'{"id": 7}'  # no outputParameters: raw passthrough


async def test_upstream_override_with_a_path_replaces_the_base(upstream: Any, make_invoker: Any, write_capability: Any) -> None:
    cap = write_capability(JOIN_CAPABILITY.format(base="https://api.example.com/api", path="/runs/{{id}}"))
    upstream.route("GET", "/mock/v2/runs/7", reply(json={"id": 7}))
    await make_invoker(cap, base=upstream.url + "/mock/v2/").invoke(tool(cap, "get-run"), mcp_incoming({"id": 7}))
    assert [r.raw_path for r in upstream.requests] == ["/mock/v2/runs/7"]


@pytest.mark.parametrize(
    "answer",
    [reply(204), reply(200), reply(202, body=b"", content_type="application/json"), reply(200, body=b"  \n")],
    ids=["204", "200-no-body", "202-empty-json", "200-whitespace"],
)
async def test_empty_2xx_is_a_success_with_no_content(answer: Any, upstream: Any, make_invoker: Any) -> None:
    """DELETE/cancel answering nothing: the reference's MCP side reports an error ("No response entity")."""
    upstream.route("POST", "/orgs/acme/apps/shop/pipelines/p1/runs/r1/cancel", answer)
    cap = load_capability(RUNS)
    outcome = await make_invoker(cap).invoke(
        tool(cap, "cancel-run-within-pipeline"), mcp_incoming({"orgId": "acme", "appId": "shop", "pipelineId": "p1", "runId": "r1"})
    )
    assert not outcome.is_error
    assert 200 <= outcome.status < 300
    assert outcome.data is None or outcome.data is NOTHING
    assert outcome.is_empty
