"""A consumed path that repeats its base URI's versioned path is sent with the version once (issue 15).

netlify/netlify-environmentvariables.yaml writes `baseUri: https://api.netlify.com/api/v1` and
`path: /api/v1/sites/{{site_id}}/env`; pure-storage/storage-fleet-management.yaml writes
`baseUri: https://[array]/api/2.52` with operation paths `/api/2.52/arrays`. The reference engine joins
them as written and sends `/api/v1/api/v1/…`, which no such API serves. A base path without a version
(`…/eligibility` with `/eligibility`) may be meant twice and is left alone.
"""

from __future__ import annotations

from pathlib import Path

from naftiko_runtime.capability.loader import load

from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

FILE = """\
naftiko: 1.0.0-alpha2
info: {label: Repeated base path, description: Paths written with the base path again.}
capability:
  consumes:
  - type: http
    namespace: sites
    baseUri: https://api.example.com/api/v1
    resources:
    - name: env
      path: /api/v1/sites/{{site_id}}/env
      operations:
      - {name: list-env, method: GET}
      - {name: get-env, method: GET, path: '/{{key}}'}
  - type: http
    namespace: arrays
    baseUri: https://storage.example.com/api/2.52
    resources:
    - name: arrays
      operations:
      - {name: get-arrays, method: GET, path: /api/2.52/arrays}
  - type: http
    namespace: offers
    baseUri: https://offers.example.com/eligibility
    resources:
    - name: eligibility
      path: /eligibility
      operations:
      - {name: check, method: GET}
  exposes:
  - type: rest
    port: 8080
    namespace: api
    resources:
    - path: /sites/{{site_id}}/env
      operations:
      - {method: GET, name: env, call: sites.list-env}
    - path: /sites/{{site_id}}/env/{{key}}
      operations:
      - {method: GET, name: key, call: sites.get-env}
    - path: /arrays
      operations:
      - {method: GET, name: arrays, call: arrays.get-arrays}
    - path: /offers
      operations:
      - {method: GET, name: offers, call: offers.check}
"""


def test_the_repeat_is_warned_once_where_it_is_written(tmp_path: Path) -> None:
    file = tmp_path / "cap.yaml"
    file.write_text(FILE)
    result = load(file)
    assert result.ok, [str(d) for d in result.errors]
    repeated = [d for d in result.warnings if d.code == "repeated-base-path"]
    lines = FILE.splitlines()
    assert sorted(lines[d.line - 1].strip() for d in repeated) == [
        "- {name: get-arrays, method: GET, path: /api/2.52/arrays}",
        "path: /api/v1/sites/{{site_id}}/env",
    ], [str(d) for d in repeated]
    assert load(file, strict=True).refused(strict=True)


async def test_the_version_is_sent_once(tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "cap.yaml"
    file.write_text(FILE)
    for path in ("/api/v1/sites/s1/env", "/api/v1/sites/s1/env/K", "/api/2.52/arrays", "/eligibility/eligibility"):
        upstream.route("GET", path, reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        base = served.rest("api")
        answers = [await served.call("GET", base + p) for p in ("/sites/s1/env", "/sites/s1/env/K", "/arrays", "/offers")]
    assert [status for status, _ in answers] == [200, 200, 200, 200], answers
    assert [r.raw_path for r in upstream.requests] == [
        "/api/v1/sites/s1/env", "/api/v1/sites/s1/env/K", "/api/2.52/arrays", "/eligibility/eligibility",
    ]
