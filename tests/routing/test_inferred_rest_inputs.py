"""A REST operation whose route lacks a value its upstream call needs (a consumed path placeholder, as in
zuplo/api-management.yaml, or a base-URI placeholder such as bigcommerce's `{store_hash}`) declares it as an
inferred required query parameter: warned at validate, listed by `inspect` and `export openapi`, accepted by the
handler. A name the route carries under another spelling (`brand-id` for `brand_id`) is not asked twice."""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.binding.binds import BindValues
from naftiko_runtime.capability.loader import load
from naftiko_runtime.exposes.rest.openapi import build_openapi
from naftiko_runtime.inspection import describe

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Inferred, description: Values the route lacks.}
capability:
  consumes:
  - type: http
    namespace: shop
    baseUri: https://api.example.com/stores/{store_hash}/v3
    resources:
    - name: keys
      path: /accounts/{accountName}/brands/{brand_id}/keys
      operations:
      - {name: list-keys, method: GET}
      - {name: delete-keys, method: DELETE, inputParameters: [{name: body, in: body, type: object, required: true}]}
  exposes:
  - type: rest
    port: 8080
    namespace: api
    resources:
    - path: /brands/{brand-id}/keys
      operations:
      - {method: GET, name: list-keys, call: shop.list-keys}
      - {method: DELETE, name: delete-keys, call: shop.delete-keys}
"""


def _query(operation: dict) -> dict[str, bool]:
    return {p["name"]: p["required"] for p in operation.get("parameters", []) if p["in"] == "query"}


def test_the_route_lacking_values_are_warned_and_exported(tmp_path: Path) -> None:
    file = tmp_path / "inferred.yaml"
    file.write_text(FILE)
    result = load(file)
    warned = [d.message for d in result.diagnostics if d.code == "unfilled-placeholder"]
    assert any("'accountName'" in w and "inferred required query parameter" in w for w in warned), warned
    assert any("'store_hash' of baseUri" in w for w in warned), warned
    document = build_openapi(result.capability)
    get = document["paths"]["/brands/{brand-id}/keys"]["get"]
    assert _query(get) == {"accountName": True, "store_hash": True}
    delete = document["paths"]["/brands/{brand-id}/keys"]["delete"]
    assert delete["requestBody"]["required"] is True
    rows = describe(result.capability, BindValues({}))["rest"]
    assert [r["inferred_query"] for r in rows] == [["accountName", "store_hash"], ["accountName", "store_hash"]]


async def test_the_handler_routes_with_the_inferred_query_parameters(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "inferred.yaml"
    file.write_text(FILE)
    upstream.route("GET", "/stores/s1/v3/accounts/a1/brands/b1/keys", reply(json=[]))
    async with serve(file, {"*": upstream.url}) as served:
        base = served.rest("api")
        missing = await served.call("GET", base + "/brands/b1/keys")
        listed = await served.call("GET", base + "/brands/b1/keys?accountName=a1&store_hash=s1")
    assert missing[0] == 400 and listed[0] == 200, (missing, listed)
    assert [r.raw_path for r in upstream.requests] == ["/stores/s1/v3/accounts/a1/brands/b1/keys"]
