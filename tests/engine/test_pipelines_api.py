"""Pipeline definitions through the API: create from YAML, patch (versions), schema, delete, criteria."""

from __future__ import annotations

import aiohttp

from naftiko_runtime.engine import EngineHandle

YAML = {"Content-Type": "application/x-yaml"}
DEF = """
id: hello
name: Hello
metadata: {team: platform}
on:
  pipeline_call:
    inputs:
      who: {type: string, required: true}
  deployment_request: {}
jobs:
  greet:
    steps:
      - uses: log
        with: {message: "hello ${{ inputs.who }}"}
"""


async def test_pipeline_crud_versions_and_schema(engine: EngineHandle, session: aiohttp.ClientSession) -> None:
    base = f"{engine.url}/orgs/demo-org/apps/demo-app/pipelines"
    async with session.post(base + "?dry_run=true", data=DEF, headers=YAML) as resp:
        assert resp.status == 204
    async with session.post(base, data=DEF, headers=YAML) as resp:
        assert resp.status == 201
        created = await resp.json()
        assert resp.headers["Etag"] == created["etag"]
    assert created["id"] == "hello" and created["trigger_types"] == ["pipeline_call", "deployment_request"]
    assert created["metadata"] == {"team": "platform"} and created["status"] == "active"
    async with session.post(base, data=DEF, headers=YAML) as resp:
        assert resp.status == 409
    for body, status in (("name: [broken", 400), ("", 400), ("name: x\non: {pipeline_call: {}}\njobs: {}", 400)):
        async with session.post(base, data=body, headers=YAML) as resp:
            assert resp.status == status, body
    async with session.get(f"{engine.url}/orgs/demo-org/pipelines", params={"trigger": "deployment_request"}) as resp:
        assert sorted(p["id"] for p in await resp.json()) == ["hello", "release"]
    async with session.get(f"{engine.url}/orgs/demo-org/pipelines", params={"metadata[team]": "platform"}) as resp:
        assert [p["id"] for p in await resp.json()] == ["hello"]

    url = f"{base}/hello"
    changed = DEF.replace("hello ${{", "hi ${{")
    async with session.patch(url, data=changed, headers={**YAML, "If-Match": '"nope"'}) as resp:
        assert resp.status == 412
    async with session.patch(url, data=changed, headers={**YAML, "If-Match": created["etag"]}) as resp:
        assert resp.status == 200
        patched = await resp.json()
    assert patched["version"] != created["version"] and patched["etag"] != created["etag"]
    async with session.get(url + "/versions") as resp:
        versions = await resp.json()
    assert [v["id"] for v in versions] == [patched["version"], created["version"]]
    async with session.get(url, params={"version": created["version"]}) as resp:
        assert (await resp.json())["version"] == created["version"]
    async with session.get(url + "/schema", headers={"Accept": "application/x.humanitec-pipelines-v1.0+yaml"}) as resp:
        assert resp.status == 200 and "hi ${{ inputs.who }}" in await resp.text()
    async with session.get(url + "/schema", params={"version": created["version"]}) as resp:
        assert (await resp.json())["jobs"]["greet"]["steps"][0]["with"]["message"] == "hello ${{ inputs.who }}"
    async with session.get(f"{engine.url}/orgs/demo-org/pipeline-schemas/latest") as resp:
        assert (await resp.json())["required"] == ["name", "on", "jobs"]

    async with session.post(url + "/runs", json={"inputs": {"who": "world"}}) as resp:
        run = await resp.json()
    async with session.post(f"{url}/runs/{run['id']}/cancel") as resp:
        assert resp.status in (204, 409)
    async with session.delete(url, headers={"If-Match": "stale"}) as resp:
        assert resp.status == 412

    async def deleted() -> int:
        async with session.delete(url) as resp:
            return resp.status

    status = await deleted()
    if status == 409:  # the run was still active; wait for it, then delete
        from .helpers import wait_until

        async def done() -> bool:
            async with session.get(f"{url}/runs/{run['id']}") as resp:
                return (await resp.json())["status"] in ("succeeded", "cancelled", "failed")

        await wait_until(done)
        status = await deleted()
    assert status == 204
    async with session.get(url) as resp:
        assert resp.status == 404


async def test_criteria_crud_and_matching(engine: EngineHandle, session: aiohttp.ClientSession) -> None:
    app = f"{engine.url}/orgs/demo-org/apps/demo-app"
    async with session.post(f"{app}/pipelines", data=DEF, headers=YAML) as resp:
        assert resp.status == 201
    async with session.get(f"{app}/pipeline-criteria") as resp:
        [fixture] = await resp.json()
    assert fixture["pipeline_id"] == "release" and fixture["pipeline_name"] == "Release" and fixture["env_type"] == "*"
    body = {"trigger": "deployment_request", "env_id": "production", "deployment_type": "deploy"}
    async with session.post(f"{app}/pipelines/hello/criteria", json=body) as resp:
        assert resp.status == 201
        crit = await resp.json()
    async with session.post(f"{app}/pipelines/hello/criteria", json=body) as resp:
        assert resp.status == 409
    async with session.post(f"{app}/pipelines/ci/criteria", json={"trigger": "deployment_request"}) as resp:
        assert resp.status == 400  # ci has no deployment_request trigger
    async with session.post(f"{app}/pipelines/hello/criteria", json={"trigger": "nope"}) as resp:
        assert resp.status == 400
    async with session.get(f"{app}/pipelines/hello/criteria/{crit['id']}") as resp:
        assert (await resp.json())["env_id"] == "production"
    async with session.get(f"{app}/pipeline-criteria", params={"pipeline": "hello"}) as resp:
        assert [c["id"] for c in await resp.json()] == [crit["id"]]
    # the most specific criteria wins: production deploys go to `hello`, others to `release`
    trigger = {"trigger": "deployment_request", "set_id": "s-1"}
    async with session.post(f"{app}/pipeline-runs?dry_run=true", json={**trigger, "env_id": "production"}) as resp:
        assert resp.status == 204
    async with session.post(f"{app}/pipeline-runs", json={**trigger, "env_id": "production"}) as resp:
        assert (await resp.json())["pipeline_id"] == "hello"
    async with session.post(f"{app}/pipeline-runs", json={"trigger": "deployment_request", "env_id": "production",
                                                           "deployment_id": "dep-1"}) as resp:
        redeploy = await resp.json()
        assert redeploy["pipeline_id"] == "release"  # hello's criteria is deploy-only
    async with session.post(f"{app}/pipelines/release/runs/{redeploy['id']}/cancel") as resp:
        assert resp.status == 204
    async with session.delete(f"{app}/pipelines/hello/criteria/{crit['id']}") as resp:
        assert resp.status == 204
    async with session.get(f"{app}/pipelines/hello/criteria/{crit['id']}") as resp:
        assert resp.status == 404
