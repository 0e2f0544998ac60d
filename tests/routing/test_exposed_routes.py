"""Exposed paths aiohttp could not route before: placeholder names of any spelling, duplicates inside one file,
literal suffixes after a placeholder."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from naftiko_runtime.capability.loader import load
from naftiko_runtime.logs import LOGGER

from ..support.paths import CORPUS
from ..support.recording_upstream import RecordingUpstream, reply
from .conftest import serve

HYPHENS = """\
naftiko: 1.0.0-alpha2
info: {label: Inspections, description: Placeholder names with hyphens and dots.}
capability:
  consumes:
  - type: http
    namespace: mfg
    baseUri: https://mfg.example.com/api
    resources:
    - name: fais
      path: /fais/{inspection-id}/parts/{part.id}
      operations:
      - {name: get-fai, method: GET}
  exposes:
  - type: rest
    port: 8080
    namespace: mfg-rest
    resources:
    - path: /inspections/{inspection-id}/parts/{part.id}
      operations:
      - {method: GET, name: get-fai, call: mfg.get-fai}
"""


async def test_placeholder_names_aiohttp_cannot_take_are_routed_and_fill_the_consumed_path(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    file = tmp_path / "hyphens.yaml"
    file.write_text(HYPHENS)
    upstream.route("GET", "/api/fais/I-7/parts/p.9", reply(json={"ok": True}))
    async with serve(file, {"*": upstream.url + "/api"}) as served:
        status, text = await served.call("GET", served.rest("mfg-rest") + "/inspections/I-7/parts/p.9")
    assert status == 200, text
    assert [r.raw_path for r in upstream.requests] == ["/api/fais/I-7/parts/p.9"]


async def test_a_corpus_file_with_hyphenated_placeholders_starts_and_routes(upstream: RecordingUpstream) -> None:
    """servicenow's exposed `{sys-id}` stopped the whole file at start ("Invalid path"); it fills the consumed `{sys_id}`."""
    file = CORPUS / "servicenow" / "service-catalog-categories.yaml"
    if not file.exists():
        pytest.skip("corpus not present")
    upstream.route("GET", "/api/sn_sc/servicecatalog/categories/abc123", reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        namespace = next(ns for kind, ns in served.runtime.started if kind == "rest")
        status, text = await served.call("GET", served.rest(namespace) + "/v1/servicecatalog/categories/abc123")
    assert status == 200, text
    assert [r.raw_path for r in upstream.requests] == ["/api/sn_sc/servicecatalog/categories/abc123"]


DUPLICATES = """\
naftiko: 1.0.0-alpha2
info: {label: Photos, description: The same route twice, and suffixes after a placeholder.}
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://up.example.com
    resources:
    - name: photos
      path: /photos
      operations:
      - {name: list, method: GET}
      - {name: list-again, method: GET, path: /photos/again}
      - {name: one, method: GET, path: "/photos/{id}"}
      - {name: meta, method: GET, path: "/photos/{id}/meta"}
      - {name: image, method: GET, path: "/photos/{id}/image"}
  exposes:
  - type: rest
    port: 8080
    namespace: photos-rest
    resources:
    - path: /photos
      operations:
      - {method: GET, name: list, call: up.list}
    - path: /photos
      operations:
      - {method: GET, name: list-again, call: up.list-again}
    - path: /photos/
      operations:
      - {method: GET, name: list-slash, call: up.list-again}
    - path: /photos/{id}
      operations:
      - {method: GET, name: one, call: up.one}
    - path: /photos/{id}.json
      operations:
      - {method: GET, name: meta, call: up.meta}
    - path: /photos/{id}.jpg
      operations:
      - {method: GET, name: image, call: up.image}
"""


async def test_a_duplicate_route_in_one_file_serves_the_first_and_warns_naming_both_lines(
        tmp_path: Path, upstream: RecordingUpstream, caplog: pytest.LogCaptureFixture) -> None:
    file = tmp_path / "photos.yaml"
    file.write_text(DUPLICATES)
    for path in ("/photos", "/photos/again", "/photos/7", "/photos/7/meta", "/photos/7/image"):
        upstream.route("GET", path, reply(json={}))
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        async with serve(file, {"*": upstream.url}) as served:
            base = served.rest("photos-rest")
            answers = [(await served.call("GET", base + p))[0] for p in ("/photos", "/photos/", "/photos/7", "/photos/7.json", "/photos/7.jpg")]
    assert answers == [200] * 5
    assert [r.raw_path for r in upstream.requests] == ["/photos", "/photos/again", "/photos/7", "/photos/7/meta", "/photos/7/image"]
    [warning] = [r for r in caplog.records if "duplicate route" in r.getMessage()]
    reason = getattr(warning, "reason", "")
    assert f"{file}:27:" in reason and f"{file}:24:" in reason, reason  # the two `GET /photos` lines


RELATIVE = """\
naftiko: 1.0.0-alpha2
info: {label: Relative, description: An exposed path written without its leading slash.}
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://up.example.com
    resources:
    - name: token
      path: token
      operations:
      - {name: post-token, method: POST}
  exposes:
  - type: rest
    port: 8080
    namespace: up-rest
    resources:
    - path: auth/token
      operations:
      - {method: POST, name: post-token, call: up.post-token}
"""


async def test_an_exposed_path_without_its_leading_slash_is_served_under_slash(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    """`path: auth/token` matches no request as written; it is served at `/auth/token`, with a located warning."""
    file = tmp_path / "relative.yaml"
    file.write_text(RELATIVE)
    result = load(file)
    [warning] = [d for d in result.diagnostics if d.code == "exposed-path-relative"]
    assert (warning.severity, warning.line, warning.col) == ("warning", 18, 13)
    assert load(file, strict=True).ok is False
    upstream.route("POST", "/token", reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        status, text = await served.call("POST", served.rest("up-rest") + "/auth/token", json={})
    assert status == 200, text
    assert [r.raw_path for r in upstream.requests] == ["/token"]


FRAGMENT = """\
naftiko: 1.0.0-alpha2
info: {label: Fragments, description: Exposed paths copied from Smithy-style upstream paths.}
capability:
  consumes:
  - type: http
    namespace: db
    baseUri: https://db.example.com
    resources:
    - name: actions
      path: /
      operations:
      - {name: describe-things, method: GET, path: '/#DescribeThings'}
      - {name: delete-thing, method: POST, path: '/#DeleteThing'}
  exposes:
  - type: rest
    port: 8080
    namespace: db-rest
    resources:
    - path: /v1/#DescribeThings
      operations:
      - {method: GET, name: describe, call: db.describe-things}
    - path: /v1/#DeleteThing
      operations:
      - {method: POST, name: delete, call: db.delete-thing}
"""


async def test_an_exposed_path_with_a_fragment_is_served_at_the_path_before_it(
        tmp_path: Path, upstream: RecordingUpstream) -> None:
    """No request carries `#DescribeThings`: the routes are `GET /v1/` and `POST /v1/`, each with a located warning."""
    file = tmp_path / "fragment.yaml"
    file.write_text(FRAGMENT)
    result = load(file)
    assert [(d.severity, d.line) for d in result.diagnostics if d.code == "exposed-path-fragment"] == [
        ("warning", 19), ("warning", 22)]
    assert load(file, strict=True).ok is False
    upstream.route("GET", "/", reply(json={}))
    upstream.route("POST", "/", reply(json={}))
    async with serve(file, {"*": upstream.url}) as served:
        got = await served.call("GET", served.rest("db-rest") + "/v1/")
        posted = await served.call("POST", served.rest("db-rest") + "/v1/", json={})
    assert (got[0], posted[0]) == (200, 200), (got, posted)
    assert [(r.method, r.raw_path) for r in upstream.requests] == [("GET", "/"), ("POST", "/")]
