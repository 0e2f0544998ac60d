"""Authentication written with another scheme's fields, which used to disable the whole consumed namespace
(every call answering "names no consumes namespace"): a bearer token given as `value`, an API key whose header is
named by `header:` with the secret in `key`. Each is read with a located warning and refused at `--strict`."""

from __future__ import annotations

from pathlib import Path

import pytest

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {{label: Loose auth, description: Authentication written loosely.}}
binds:
- namespace: env
  keys: {{SERVICE_SECRET: SERVICE_SECRET}}
capability:
  consumes:
  - type: http
    namespace: svc
    baseUri: https://svc.example.com
    authentication:
{auth}
    resources:
    - name: items
      path: /items
      operations:
      - {{name: list-items, method: GET}}
  exposes:
  - type: rest
    port: 8080
    namespace: svc-rest
    resources:
    - path: /items
      operations:
      - {{method: GET, name: list, call: svc.list-items}}
"""

BEARER_VALUE = """\
      type: bearer
      value: '{{SERVICE_SECRET}}'
      placement: header"""

APIKEY_HEADER = """\
      type: apikey
      header: x-service-token
      key: '{{SERVICE_SECRET}}'"""


@pytest.mark.parametrize(("auth", "header", "sent"), [
    (BEARER_VALUE, "Authorization", "Bearer s3cret"),
    (APIKEY_HEADER, "x-service-token", "s3cret"),
], ids=["bearer-value", "apikey-header"])
async def test_authentication_with_another_schemes_fields_is_read_and_sent(
        tmp_path: Path, upstream: RecordingUpstream, auth: str, header: str, sent: str) -> None:
    file = tmp_path / "auth.yaml"
    file.write_text(FILE.format(auth=auth))
    result = load(file)
    assert result.ok, result.diagnostics
    [warning] = [d for d in result.diagnostics if d.code == "auth-other-scheme-fields"]
    assert (warning.severity, warning.line, warning.col) == ("warning", 13, 7)
    assert load(file, strict=True).ok is False
    upstream.route("GET", "/items", reply(json=[]))
    async with serve(file, {"*": upstream.url}, env={"SERVICE_SECRET": "s3cret"}) as served:
        status, text = await served.call("GET", served.rest("svc-rest") + "/items")
    assert status == 200, text
    [request] = upstream.requests
    assert request.headers.get(header) == sent
