"""Pure schema and hint derivation (also what `naftiko inspect` shows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.model import Action, McpAdapter
from naftiko_runtime.exposes.mcp.schema import input_schema, output_schema, tool_annotations
from tests.support.paths import SEEDED_DIR

PIPELINERUNS, EVENT, INNGEST = (SEEDED_DIR / f"{n}.yaml" for n in ("humanitec-pipelineruns", "humanitec-event", "inngest-runs"))

FIXTURE = Path(__file__).parent / "fixtures" / "shipyard.yaml"


def tools(path: Path) -> dict[str, Action]:
    cap = load(path).capability
    assert cap is not None
    adapter = next(a for a in cap.adapters if isinstance(a, McpAdapter))
    return {t.name: t for t in adapter.tools}


@pytest.mark.parametrize(("path", "count"), [(PIPELINERUNS, 11), (EVENT, 7), (INNGEST, 3)])
def test_every_seed_tool_gets_an_inferred_closed_schema(path: Path, count: int) -> None:
    found = tools(path)
    assert len(found) == count
    for action in found.values():
        assert action.inputs is None  # the seeds declare no tool inputParameters
        schema = input_schema(action)
        assert schema["additionalProperties"] is False
        assert action.call is not None
        # every placeholder is asked for (the seeds' `with` keys equal their referenced names)
        assert set(action.call.operation.path.names) <= set(schema["required"])
        assert output_schema(action) is None  # `type: object` without properties passes the answer through


def test_with_reference_names_the_property_by_the_referenced_incoming_name() -> None:
    get = tools(FIXTURE)["get-ship"]  # with: {imo_number: shipyard-tools.imo}, path /ships/{{imo_number}}
    schema = input_schema(get)
    assert list(schema["properties"]) == ["imo"] and schema["required"] == ["imo"]


def test_consumed_query_parameter_is_optional_and_typed() -> None:
    schema = input_schema(tools(FIXTURE)["list-ships"])
    assert schema["properties"] == {"status": {"type": "string"}}
    assert "required" not in schema


def test_body_reference_becomes_an_object_and_types_come_from_consumed_params() -> None:
    create = input_schema(tools(PIPELINERUNS)["create-run-within-pipeline"])
    assert create["properties"]["body"]["type"] == "object"
    assert create["properties"]["dry_run"]["type"] == "boolean"
    assert create["required"] == ["orgId", "appId", "pipelineId", "body"]


def test_hints_are_explicit_and_file_values_win_field_by_field() -> None:
    shipyard = tools(FIXTURE)
    assert tool_annotations(shipyard["get-ship"]) == {
        "title": "Get Ship", "readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": True,
    }
    # DELETE derives destructive+idempotent; the file says destructive: false
    assert tool_annotations(shipyard["scrap-ship"]) == {
        "readOnlyHint": False, "destructiveHint": False, "idempotentHint": True, "openWorldHint": True,
    }
    assert tool_annotations(shipyard["greet"])["openWorldHint"] is False  # a mock touches nothing outside
    seeds = tools(PIPELINERUNS)
    assert tool_annotations(seeds["deleting-completed-run-within-pipeline"]) == {
        "readOnlyHint": False, "destructiveHint": True, "idempotentHint": True, "openWorldHint": True,
    }


def test_output_schemas_objects_described_arrays_wrapped() -> None:
    shipyard = tools(FIXTURE)
    assert output_schema(shipyard["get-ship"]) == {
        "type": "object", "properties": {"imo": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]}},
    }
    listed = output_schema(shipyard["list-ships"])
    assert listed is not None and list(listed["properties"]) == ["result"]
    assert listed["properties"]["result"]["type"] == ["array", "null"]
    assert output_schema(shipyard["scrap-ship"]) is None
    assert output_schema(shipyard["greet"]) == {"type": "object", "properties": {"greeting": {"type": ["string", "null"]}}}


def test_openapi_export_and_mcp_describe_one_mapped_answer_alike(tmp_path: Path) -> None:
    """Issue 17: one output converter. An operation exposed on REST and MCP with the same named
    outputs gets the same schema in the OpenAPI export as in the tool's outputSchema."""
    from naftiko_runtime.exposes.rest.openapi import build_openapi

    outputs = """
        outputParameters:
        - type: object
          properties:
            imo: {type: string, mapping: $.imo}
            crew:
              type: array
              mapping: $.crew
              items:
                type: object
                properties:
                  name: {type: string, mapping: $.name}
                  age: {type: number, mapping: $.age}"""
    file = tmp_path / "one.yaml"
    file.write_text(f"""naftiko: 1.0.0-alpha2
info: {{label: One, description: One answer, two surfaces.}}
capability:
  consumes:
  - type: http
    namespace: svc
    baseUri: http://127.0.0.1:9
    resources:
    - {{name: things, path: "/things/{{{{id}}}}", operations: [{{name: get-thing, method: GET}}]}}
  exposes:
  - type: rest
    namespace: api
    port: 8080
    resources:
    - path: "/things/{{id}}"
      operations:
      - method: GET
        name: get-thing
        call: svc.get-thing
        with: {{id: api.id}}{outputs}
  - type: mcp
    namespace: tools
    port: 3000
    tools:
    - name: get-thing
      description: One thing.
      call: svc.get-thing
      with: {{id: tools.id}}{outputs.replace(chr(10) + "        ", chr(10) + "      ")}
""")
    result = load(file)
    assert result.ok, [str(d) for d in result.errors]
    cap = result.capability
    assert cap is not None
    tool = next(a for a in cap.adapters if isinstance(a, McpAdapter)).tools[0]
    document = build_openapi(cap)
    rest = document["paths"]["/things/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    mcp = output_schema(tool)
    assert mcp is not None and set(mcp["properties"]) == {"imo", "crew"}
    assert rest["properties"] == mcp["properties"]
    assert rest["properties"]["crew"]["items"]["properties"]["age"] == {"type": ["number", "null"]}
