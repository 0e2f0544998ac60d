"""A consumed resource whose `name:` is left empty used to disable every operation in it; only a three-part call
refers to resource names, so its operations are served, with a located warning (refused at `--strict`)."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Unnamed, description: A resource without a name.}
capability:
  consumes:
  - type: http
    namespace: db
    baseUri: https://db.example.com
    resources:
    - name:
      path: /clusters
      operations:
      - {name: delete-cluster, method: DELETE}
  exposes:
  - type: mcp
    port: 9090
    namespace: db-mcp
    tools:
    - {name: delete-cluster, description: Delete the cluster., call: db.delete-cluster}
"""


async def test_a_consumed_resource_without_a_name_still_serves_its_operations(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "unnamed.yaml"
    file.write_text(FILE)
    result = load(file)
    assert result.ok, result.diagnostics
    [warning] = [d for d in result.diagnostics if d.code == "resource-name-empty"]
    assert (warning.severity, warning.line) == ("warning", 9)
    assert load(file, strict=True).ok is False
    upstream.route("DELETE", "/clusters", reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        async with served.mcp("db-mcp") as client:
            tool = await client.call_tool("delete-cluster", {})
    assert not tool.is_error, tool
    assert [(r.method, r.raw_path) for r in upstream.requests] == [("DELETE", "/clusters")]
