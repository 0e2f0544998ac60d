"""Tests of our alpha2 JSON Schema (schemas/naftiko-1.0.0-alpha2.json) and naftiko_runtime.capability.schema."""

from __future__ import annotations

import collections
import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from naftiko_runtime.capability.deviations import DEVIATIONS
from naftiko_runtime.capability.schema import (
    SchemaIssue,
    check_schema,
    load_schema,
)

SCHEMA_DEVIATIONS = {code for code, d in DEVIATIONS.items() if d.seen_by == "schema"}

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
TUTORIAL = SHARED / "conformance" / "naftiko-tutorial"
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"

_yaml = YAML(typ="safe")


def load_yaml(text_or_path):
    if isinstance(text_or_path, Path):
        text_or_path = text_or_path.read_text(encoding="utf-8")
    return _yaml.load(text_or_path)


def seed_spec(prefix: str):
    """The capability YAML of a seed file: everything after the '<name>.yaml Raw ↑' line."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("Raw ↑"))
    return load_yaml("\n".join(lines[start + 1:]) + "\n")


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared (corpus, seeds, tutorial) not available")


# ------------------------------------------------------------------------------------------ the schema itself


def test_schema_is_valid_draft_2020_12():
    schema = json.loads((REPO / "schemas" / "naftiko-1.0.0-alpha2.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://naftiko-runtime.dev/schemas/naftiko-1.0.0-alpha2.json"
    assert schema["properties"]["naftiko"]["const"] == "1.0.0-alpha2"


def test_every_object_definition_has_title_and_description():
    for name, definition in load_schema()["$defs"].items():
        assert definition.get("title"), name
        assert definition.get("description"), name


def test_extended_identifier_has_no_accidental_range():
    pattern = load_schema()["$defs"]["ExtendedIdentifier"]["pattern"]
    assert pattern == "^[a-zA-Z0-9_*-]+$"
    for bad in (":", ";", "<", "=", "?", "@", "[", "^"):
        assert not re.match(pattern, f"a{bad}b")


def test_deviation_codes_are_documented():
    for code, deviation in DEVIATIONS.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)+", code) and deviation.code == code
        assert len(deviation.message) > 15 and len(deviation.runtime) > 15, code
        assert (deviation.default, deviation.strict) == ("warning", "error"), code


# ------------------------------------------------------------------------------------------ reference tutorial


def tutorial_documents():
    if not TUTORIAL.is_dir():
        return []
    files = sorted(TUTORIAL.glob("*.yml")) + sorted((TUTORIAL / "shared").glob("*.y*ml"))
    return [f for f in files if isinstance(load_yaml(f), dict) and "naftiko" in load_yaml(f)]


@needs_shared
@pytest.mark.parametrize("path", tutorial_documents(), ids=lambda p: p.name)
def test_tutorial_files_pass_strictly(path):
    assert check_schema(load_yaml(path)) == []


@needs_shared
def test_tutorial_documents_are_found():
    names = {p.name for p in tutorial_documents()}
    assert len(names) == 17  # 11 steps + 6 shared consumes files (secrets.yaml and tests.yml are not capability docs)
    assert "step-11-shipyard-fleet-manifest.yml" in names and "legacy-consumes.yaml" in names


# ------------------------------------------------------------------------------------------ seeds (notes §4)

SEED_EXPECTED = {
    # seed: {deviation: count}; nothing else may be reported.
    "000": {"object-output-without-properties": 22, "rest-adapter-description": 1, "consumed-param-extra-fields": 4},
    "003": {"object-output-without-properties": 14, "rest-adapter-description": 1, "consumed-param-extra-fields": 18},
    "004": {"object-output-without-properties": 6, "rest-adapter-description": 1, "consumed-param-extra-fields": 3},
}
SEED_TOTALS = {"000": 27, "003": 33, "004": 10}


def seed_document(seed: str):
    if seed == "003":  # the seed lost its indentation; the original is in the corpus
        return load_yaml(CORPUS / "humanitec" / "humanitec-event.yaml")
    return seed_spec(seed)


@needs_shared
@pytest.mark.parametrize("seed", sorted(SEED_EXPECTED))
def test_seed_deviations_match_the_audit(seed):
    issues = check_schema(seed_document(seed))
    assert len(issues) == SEED_TOTALS[seed]
    assert dict(collections.Counter(i.deviation for i in issues)) == SEED_EXPECTED[seed]
    # Where they are: REST and MCP outputs split evenly; the adapter description on exposes[0].
    outputs = [i for i in issues if i.deviation == "object-output-without-properties"]
    assert sum("tools" in i.path for i in outputs) == sum("operations" in i.path for i in outputs)
    (rest,) = [i for i in issues if i.deviation == "rest-adapter-description"]
    assert rest.path == ("capability", "exposes", 0)
    assert rest.message == "unknown field 'description' (a REST adapter has no description)"
    for issue in issues:
        if issue.deviation == "consumed-param-extra-fields":
            assert issue.path[:2] == ("capability", "consumes") and issue.path[-2] == "inputParameters"
            assert issue.message.startswith("unknown field")


# ------------------------------------------------------------------------------------------ corpus

# Files of the corpus that violate alpha2 in a way that is not a tolerated deviation: each is a real
# defect of that file (named here), not a schema mistake. Keep in sync with the summary printed below.
CORPUS_DEFECTS = {
    "1factory/1factory-manufacturing.yaml": "bind key 1FACTORY_API_KEY starts with a digit",
    "1factory/1factory-quality-management.yaml": "apikey authentication with 'headers'; empty parameter names",
    "1factory/1factory-work-orders.yaml": "bind key 1FACTORY_API_KEY starts with a digit",
    "2020-police-brutality/2020-police-brutality-incidents.yaml": "bind key starts with a digit",
    "aligned-news/ai-news-intelligence.yaml": "operation-level 'path' (ignored by alpha2); no baseUri",
    "aligned-news/shared/aligned-news.yaml": "operation-level 'path' on consumed operations",
    "bigcommerce/catalog-brands-metafields.yaml": "'{store_hash}' placeholder in baseUri",
    "bigcommerce/content-blog-tags.yaml": "'{store_hash}' placeholder in baseUri",
    "bigcommerce/tax-provider-connection-tax-provider-connection.yaml": "'{store_hash}' placeholder in baseUri",
    "datadog/incident-management.yaml": "apikey authentication with 'headers'",
    "datadog/monitoring-and-alerting.yaml": "apikey authentication with 'headers'",
    "factset/open-marketplace-ofs.yaml": "method HEAD",
    "free-law-project/free-law-project-capability.yaml": "apikey authentication with 'in'/'name'",
    "fulcrum/fulcrum-capability.yaml": "apikey authentication with 'in'/'name'",
    "google-analytics/audience-management.yaml": "operation-level 'path' on consumed operations",
    "google-analytics/compliance.yaml": "operation-level 'path' on consumed operations",
    "mastercard/loyalty-and-offers.yaml": "authentication type oauth1",
    "mastercard/money-transfer-and-disbursements.yaml": "authentication type oauth1",
    "moesif/moesif-capability.yaml": "tool argument named '`type`' (backticks)",
    "naftiko/adjacency-capability-driven-mocking-reference.yaml": "baseUri is a bare template",
    "naftiko/aws-api-gateway-openapi-crawl-capability.yaml": "authentication type aws-sig-v4",
    "naftiko/finops-ai-cross-platform-cost-capability.yaml": "authentication type aws-sig-v4",
    "openlaws/manage-openlaw-capability.yaml": "'aggregates' inside MCP tools and REST operations",
    "pexels/pexels-capability.yaml": "apikey authentication with 'in'/'name'",
    "postman/api-development-lifecycle.yaml": "consumed API without baseUri",
    "postman/governance.yaml": "consumed API without baseUri",
    "postman/postman-fabric-gateway-bridge.yaml": "exposed inputParameters with 'required'; baseUri is a template",
    "pulumi/pulumi-ai.yaml": "empty baseUri",
    "pulumi/pulumi-environments.yaml": "empty baseUri; method HEAD",
    "pulumi/pulumi-policyresults.yaml": "empty baseUri",
    "pure-storage/flasharray-rest-arrays.yaml": "empty baseUri",
    "pure-storage/flasharray-rest-audits.yaml": "empty baseUri",
    "pure-storage/storage-fleet-management.yaml": "consumed resources without 'path'",
    "servicenow/customer-service.yaml": "operation-level 'path' on consumed operations",
    "servicenow/itsm-operations.yaml": "operation-level 'path' on consumed operations",
    "slack/admin-administrative.yaml": "empty baseUri",
    "slack/conversations-members.yaml": "empty baseUri",
    "stability-ai/image-creation.yaml": "request body type 'multipart'",
    "themeparks-wiki/theme-park-planning.yaml": "empty 'binds' list",
    "twilio/customer-communications.yaml": "request body type 'form'",
    "twilio/identity-and-fraud-prevention.yaml": "request body type 'form'",
    "us-patent-and-trademark-office/intellectual-property-research.yaml": "array output without 'items'",
    "veracode/devsecops-pipeline.yaml": "authentication type hmac",
    "veracode/security-administration.yaml": "authentication type hmac",
    "wiremock/api-mocking-and-testing.yaml": "baseUri is a bare template",
    "xweather/lightning-safety.yaml": "exposes adapter of type 'http'",
    "xweather/operational-weather-monitoring.yaml": "exposes adapter of type 'http'",
}

# The notes ask for 95%; at the schema level that is out of reach without tolerating real defects
# (missing/empty baseUri, unsupported auth types, operation-level paths...): see CORPUS_DEFECTS.
MIN_SCHEMA_PASS_RATE = 0.80


@needs_shared
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_corpus_summary_and_pass_rate(capsys):
    files = sorted(CORPUS.rglob("*.yaml"))
    assert len(files) >= 240
    deviation_counts: collections.Counter = collections.Counter()
    defect_counts: collections.Counter = collections.Counter()
    failing: dict[str, SchemaIssue] = {}
    for path in files:
        issues = check_schema(load_yaml(path))
        for issue in issues:
            if issue.deviation:
                deviation_counts[issue.deviation] += 1
            else:
                defect_counts[re.sub(r"'[^']*'|\b\d+\b", "…", issue.message)[:100]] += 1
        real = [i for i in issues if i.deviation is None]
        if real:
            failing[str(path.relative_to(CORPUS))] = real[0]
        for issue in issues:  # messages stay short and never dump a whole oneOf
            assert len(issue.message) < 300 and "is not valid under any of" not in issue.message

    passed = len(files) - len(failing)
    with capsys.disabled():
        print(f"\n\ncorpus: {passed}/{len(files)} files ({passed / len(files):.1%}) have no non-deviation issue")
        print("\n  deviation code                       issues")
        for code, n in deviation_counts.most_common():
            print(f"  {code:36s} {n:6d}")
        print("\n  other issues (message shape)                                                           count")
        for message, n in defect_counts.most_common():
            print(f"  {message:86s} {n:5d}")
        print("\n  failing files (first issue):")
        for name, issue in failing.items():
            where = "/".join(map(str, issue.path))
            print(f"  {name}: {where}: {issue.message}")
    assert set(deviation_counts) | {"param-name-chars"} >= SCHEMA_DEVIATIONS
    assert set(failing) == set(CORPUS_DEFECTS), "a corpus file changed verdict: update CORPUS_DEFECTS or the schema"
    assert passed / len(files) >= MIN_SCHEMA_PASS_RATE


# ------------------------------------------------------------------------------------------ targeted cases

MINIMAL = """
naftiko: 1.0.0-alpha2
info:
  label: Demo
  description: A demo capability.
capability:
  consumes:
    - type: http
      namespace: upstream
      baseUri: https://api.example.com/v1
      resources:
        - name: ships
          path: /ships/{{shipId}}
          operations:
            - name: get-ship
              method: GET
              inputParameters:
                - name: shipId
                  in: path
  exposes:
    - type: rest
      port: 8080
      namespace: demo-rest
      resources:
        - path: /ships/{shipId}
          operations:
            - method: GET
              call: upstream.get-ship
              with:
                shipId: rest.shipId
              outputParameters:
                - type: object
                  properties:
                    name:
                      type: string
                      mapping: $.name
    - type: mcp
      port: 9090
      namespace: demo-mcp
      tools:
        - name: get-ship
          description: Get a ship.
          call: upstream.get-ship
          inputParameters:
            - name: shipId
              type: string
              description: The ship.
"""


def doc():
    return load_yaml(MINIMAL)


def one(document) -> SchemaIssue:
    issues = check_schema(document)
    assert len(issues) == 1, issues
    return issues[0]


def test_minimal_document_is_valid():
    assert check_schema(doc()) == []


def test_wrong_method():
    d = doc()
    d["capability"]["exposes"][0]["resources"][0]["operations"][0]["method"] = "FETCH"
    issue = one(d)
    assert issue.path == ("capability", "exposes", 0, "resources", 0, "operations", 0, "method")
    assert issue.message == "method: expected one of GET, POST, PUT, PATCH, DELETE, got 'FETCH'"
    assert issue.deviation is None


def test_bad_call_pattern():
    d = doc()
    d["capability"]["exposes"][1]["tools"][0]["call"] = "upstream.ships.get-ship"
    issue = one(d)
    assert issue.path == ("capability", "exposes", 1, "tools", 0, "call")
    assert "namespace.operation" in issue.message and "'upstream.ships.get-ship'" in issue.message


@pytest.mark.parametrize("port", [0, 70000])
def test_port_out_of_range(port):
    d = doc()
    d["capability"]["exposes"][0]["port"] = port
    issue = one(d)
    assert issue.path == ("capability", "exposes", 0, "port")
    assert issue.message == f"port: expected an integer from 1 to 65535, got {port}"


def test_port_of_wrong_type():
    d = doc()
    d["capability"]["exposes"][0]["port"] = "8080"
    assert one(d).message == "port: expected an integer, got a string ('8080')"


def test_unknown_field():
    d = doc()
    d["capability"]["exposes"][1]["tools"][0]["summary"] = "x"
    issue = one(d)
    assert issue.path == ("capability", "exposes", 1, "tools", 0)
    assert issue.message.startswith("unknown field 'summary' in an MCP tool (allowed: name, label, description")
    assert issue.deviation is None


def test_missing_naftiko():
    d = doc()
    del d["naftiko"]
    issue = one(d)
    assert issue.path == ()
    assert "'naftiko' is required" in issue.message


def test_wrong_version():
    d = doc()
    d["naftiko"] = "1.0.0-alpha1"
    assert one(d).message == "naftiko: expected '1.0.0-alpha2', got '1.0.0-alpha1'"


def test_capability_and_root_consumes_together():
    d = doc()
    d["consumes"] = copy.deepcopy(d["capability"]["consumes"])
    issue = one(d)
    assert issue.path == ()
    assert "both 'capability' and a root 'consumes'" in issue.message


def test_neither_capability_nor_consumes():
    issue = one({"naftiko": "1.0.0-alpha2"})
    assert "either 'capability'" in issue.message


@pytest.mark.parametrize("document, expected", [([1, 2], "a list"), ("text", "a string"), (None, "null")])
def test_document_that_is_not_a_mapping(document, expected):
    issue = one(document)
    assert issue.path == () and "expected a mapping" in issue.message and expected in issue.message


def test_unknown_adapter_type():
    d = doc()
    d["capability"]["exposes"][0]["type"] = "grpc"
    issue = one(d)
    assert issue.message == "type: expected one of rest, mcp, skill, control, got 'grpc'"


def test_object_output_without_properties_is_a_deviation_only_with_mapping():
    d = doc()
    op = d["capability"]["exposes"][0]["resources"][0]["operations"][0]
    op["outputParameters"] = [{"type": "object", "mapping": "$."}]
    issue = one(d)
    assert issue.deviation == "object-output-without-properties"
    assert issue.message.startswith("'properties' is required for an object output")
    op["outputParameters"] = [{"type": "object"}]
    issue = one(d)
    assert issue.deviation is None and issue.message == "'properties' is required for an object output"


def test_scalar_output_needs_exactly_one_of_mapping_or_value():
    d = doc()
    out = d["capability"]["exposes"][0]["resources"][0]["operations"][0]["outputParameters"][0]
    out["properties"]["name"] = {"type": "string"}
    assert one(d).message == "a scalar output parameter needs 'mapping' or 'value'"
    out["properties"]["name"] = {"type": "string", "mapping": "$.a", "value": "b"}
    issue = one(d)
    assert issue.path[-2:] == ("properties", "name")
    assert issue.message == "a scalar output parameter takes only one of 'mapping' or 'value', not several"


def test_consumed_parameter_extras_split_into_deviation_and_error():
    d = doc()
    param = d["capability"]["consumes"][0]["resources"][0]["operations"][0]["inputParameters"][0]
    param.update(type="string", required=True, format="uuid")
    issues = check_schema(d)
    assert [(i.deviation, i.message) for i in issues] == [
        ("consumed-param-extra-fields",
         "unknown fields 'type', 'required' (a consumed input parameter has only name, in and value)"),
        (None, "unknown field 'format' in a consumed input parameter (allowed: name, in, value)"),
    ]


def test_mcp_tool_branch_is_chosen_by_call():
    d = doc()
    tool = d["capability"]["exposes"][1]["tools"][0]
    tool["outputParameters"] = [{"type": "number", "mapping": "$.n"}, {"type": "array", "mapping": "$.x"}]
    issue = one(d)
    assert issue.path == ("capability", "exposes", 1, "tools", 0, "outputParameters", 1)
    assert issue.message == "'items' is required for an array output"


def test_mcp_tool_branch_is_chosen_by_steps():
    d = doc()
    tool = d["capability"]["exposes"][1]["tools"][0]
    del tool["call"]
    tool["steps"] = [{"type": "call", "name": "one", "call": "upstream.get-ship"},
                     {"type": "lookup", "name": "two", "index": "one", "match": "id"}]
    issues = check_schema(d)
    assert {i.message for i in issues} == {"'lookupValue' is required for a lookup step",
                                           "'outputParameters' is required for a lookup step"}
    assert all(i.path == ("capability", "exposes", 1, "tools", 0, "steps", 1) for i in issues)


def test_mcp_tool_without_any_mode():
    d = doc()
    del d["capability"]["exposes"][1]["tools"][0]["call"]
    issue = one(d)
    assert issue.message == "an MCP tool needs 'call', 'steps', 'ref' or 'outputParameters'"


def test_mcp_tool_missing_description_is_a_deviation():
    d = doc()
    del d["capability"]["exposes"][1]["tools"][0]["description"]
    issue = one(d)
    assert issue.deviation == "missing-description"


def test_stdio_mcp_adapter_has_no_port():
    d = doc()
    d["capability"]["exposes"][1]["transport"] = "stdio"
    issue = one(d)
    assert issue.path == ("capability", "exposes", 1)
    assert issue.message == "'port' is not allowed: a stdio MCP adapter has no port"
    del d["capability"]["exposes"][1]["port"]
    assert check_schema(d) == []
    d["capability"]["exposes"][1]["transport"] = "http"
    assert one(d).message == "'port' is required for an MCP adapter"


def test_rest_adapter_description_is_a_deviation():
    d = doc()
    d["capability"]["exposes"][0]["description"] = "REST adapter"
    issue = one(d)
    assert issue == SchemaIssue(("capability", "exposes", 0),
                                "unknown field 'description' (a REST adapter has no description)",
                                "rest-adapter-description")


def test_resource_and_parameter_names():
    d = doc()
    consumed = d["capability"]["consumes"][0]["resources"][0]
    consumed["name"] = "ships_by_id"
    consumed["operations"][0]["inputParameters"].append({"name": "filter[tags]", "in": "query"})
    assert [i.deviation for i in check_schema(d)] == ["resource-name-not-kebab", "param-name-chars"]
    consumed["operations"][0]["name"] = "get_ship"  # operation names are referenced by `call`: no tolerance
    codes = [i.deviation for i in check_schema(d)]
    assert codes.count(None) == 1


def test_binding_key_name_points_at_the_key():
    d = doc()
    d["binds"] = [{"namespace": "env", "keys": {"1API_KEY": "API_KEY"}}]
    issue = one(d)
    assert issue.path == ("binds", 0, "keys", "1API_KEY")
    assert "SCREAMING_SNAKE_CASE" in issue.message


def test_address_alternatives_are_summarised():
    d = doc()
    d["capability"]["exposes"][0]["address"] = "not an address!"
    issue = one(d)
    assert issue.message == "address: expected a host name, IPv4 address or IPv6 address, got 'not an address!'"


def test_empty_list():
    d = doc()
    d["capability"]["exposes"][0]["resources"] = []
    assert one(d).message == "'resources' must not be empty"


def test_imported_consumes_is_recognised_by_import():
    d = load_yaml("naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n    - location: ./shared.yaml\n      as: reg\n")
    issue = one(d)
    assert issue.message == "'import' is required for an imported consumed API"


def test_exclusive_alternatives_combined():
    d = doc()
    d["capability"]["exposes"][1]["resources"] = [
        {"name": "r", "label": "R", "uri": "data://r", "description": "d", "call": "upstream.get-ship",
         "location": "file:///srv/r"}]
    d["capability"]["exposes"][1]["prompts"] = [
        {"name": "p", "label": "P", "description": "d", "template": [{"role": "user", "content": "hi"}],
         "location": "file:///srv/p"}]
    messages = [i.message for i in check_schema(d)]
    assert messages == ["an MCP resource takes only one of 'call', 'steps' or 'location', not several",
                        "an MCP prompt takes only one of 'template' or 'location', not several"]


def test_capability_needs_exposes_or_consumes():
    assert one({"naftiko": "1.0.0-alpha2", "capability": {}}).message == "a capability needs 'exposes' or 'consumes'"


@pytest.mark.parametrize("item, expected", [(None, "null"), ([], "a list"), (5, "an integer")])
def test_list_item_that_is_not_a_mapping_gets_one_issue(item, expected):
    d = doc()
    d["capability"]["exposes"].append(item)
    issue = one(d)
    assert issue.path == ("capability", "exposes", 2)
    assert issue.message.startswith(f"exposes[2]: expected a mapping, got {expected}")
