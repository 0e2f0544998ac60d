"""Consumed path placeholders filled the way real files need: from binds, and never demanded when they cannot be sent."""

from __future__ import annotations

from pathlib import Path

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Placeholders, description: Binds in the path, path parameters the path lacks.}
binds:
- namespace: k8s-env
  keys: {K8S_NAMESPACE: K8S_NAMESPACE}
capability:
  consumes:
  - type: http
    namespace: k8s
    baseUri: https://k8s.example.com
    resources:
    - {name: deployments, path: '/namespaces/{{K8S_NAMESPACE}}/deployments', operations: [{name: list, method: GET}]}
    - name: cohorts
      path: /~/cohorts
      operations:
      - name: cohorts
        method: GET
        inputParameters:
        - {name: orgId, in: path, type: string, required: true}
  exposes:
  - type: mcp
    port: 9090
    namespace: tools
    tools:
    - {name: list, description: The deployments., call: k8s.list}
  - type: rest
    port: 8080
    namespace: api
    resources:
    - path: /deployments
      operations:
      - {method: GET, name: list, call: k8s.list}
    - path: /cohorts
      operations:
      - {method: GET, name: cohorts, call: k8s.cohorts}
"""


async def test_a_bind_fills_its_placeholder_and_a_path_parameter_the_path_lacks_is_not_demanded(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "k8s.yaml"
    file.write_text(FILE)
    upstream.route("GET", "/namespaces/prod/deployments", reply(json=[]))
    upstream.route("GET", "/~/cohorts", reply(json=[]))
    async with serve(file, {"*": upstream.url}, env={"K8S_NAMESPACE": "prod"}) as served:
        base = served.rest("api")
        listed = await served.call("GET", base + "/deployments?K8S_NAMESPACE=evil")
        cohorts = await served.call("GET", base + "/cohorts")
    assert listed[0] == 200 and cohorts[0] == 200, (listed, cohorts)
    assert [r.raw_path for r in upstream.requests] == ["/namespaces/prod/deployments", "/~/cohorts"]


async def test_a_placeholder_a_bind_fills_is_not_a_tool_argument(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "k8s.yaml"
    file.write_text(FILE)
    upstream.route("GET", "/namespaces/prod/deployments", reply(json=[]))
    async with serve(file, {"*": upstream.url}, env={"K8S_NAMESPACE": "prod"}) as served, served.mcp("tools") as client:
        [tool] = (await client.list_tools()).tools
        assert "K8S_NAMESPACE" not in tool.input_schema.get("properties", {})
        result = await client.call_tool("list", {})
    assert not result.is_error, result.content
    assert [r.raw_path for r in upstream.requests] == ["/namespaces/prod/deployments"]
