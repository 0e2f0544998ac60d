"""A body the engine cannot read is the client's documented 400, in the shape of the API called.

Reproduces ``printf '\\xff\\xfe{' | curl --data-binary @- …`` on every create/update, and the
Humanitec cases that used to answer an undocumented 422.
"""

from __future__ import annotations

import aiohttp
import pytest

from naftiko_runtime.engine import EngineHandle

NOT_UTF8 = b"\xff\xfe{"
APP = "/orgs/demo-org/apps/demo-app"
HUMANITEC = [
    ("POST", f"{APP}/pipelines/ci/runs"),
    ("POST", f"{APP}/pipeline-runs"),
    ("POST", f"{APP}/pipelines"),
    ("PATCH", f"{APP}/pipelines/ci"),
    ("POST", f"{APP}/pipelines/release/criteria"),
    ("POST", f"{APP}/webhooks"),
    ("PATCH", f"{APP}/webhooks/some-hook"),
]


@pytest.mark.parametrize(("method", "path"), HUMANITEC)
async def test_humanitec_non_utf8_body_is_400(engine: EngineHandle, session: aiohttp.ClientSession,
                                              method: str, path: str) -> None:
    if path.endswith("some-hook"):
        hook = {"id": "some-hook", "url": "example.invalid/x", "triggers": [{"scope": "deployment", "type": "finished"}]}
        async with session.post(f"{engine.url}{APP}/webhooks", json=hook) as resp:
            assert resp.status == 201
    async with session.request(method, engine.url + path, data=NOT_UTF8,
                               headers={"Content-Type": "application/json"}) as resp:
        body = await resp.json()
        assert resp.status == 400, body
        assert body["error"] == "API-400" and "UTF-8" in body["message"]


@pytest.mark.parametrize(("method", "path", "shape"), [
    ("POST", "/api/v1/pipelines", "statusCode"),
    ("POST", "/pipelines/v0/pipelines/release/runs", "code"),
    ("POST", "/e/some-key", "status"),
    ("POST", "/v1/cancellations", None),  # documents 200 only: the refusal is in the body
    ("POST", "/v1/webhooks", None),
    ("POST", "/v1/signals", None),
    ("POST", "/_engine/fire", "error"),
])
async def test_other_apis_non_utf8_body_is_a_client_error(engine: EngineHandle, session: aiohttp.ClientSession,
                                                          method: str, path: str, shape: str | None) -> None:
    async with session.request(method, engine.url + path, data=NOT_UTF8,
                               headers={"Content-Type": "application/json"}) as resp:
        body = await resp.json()
        assert resp.status == (200 if shape is None else 400), body
        assert ("error" if shape is None else shape) in body and "UTF-8" in str(body)


@pytest.mark.parametrize(("method", "query", "body"), [
    ("POST", "", ""),                       # empty body
    ("POST", "", "- just\n- a list\n"),     # YAML that is not a mapping
    ("POST", "", "name: [broken"),          # invalid YAML
    ("PATCH", "?dry_run=true", ""),         # an empty PATCH with dry_run
])
async def test_unreadable_pipeline_definitions_are_400_not_422(engine: EngineHandle, session: aiohttp.ClientSession,
                                                               method: str, query: str, body: str) -> None:
    url = f"{engine.url}{APP}/pipelines" + ("/ci" if method == "PATCH" else "") + query
    async with session.request(method, url, data=body, headers={"Content-Type": "application/x-yaml"}) as resp:
        answer = await resp.json()
        assert resp.status == 400 and answer["error"] == "API-400" and answer["message"], answer
