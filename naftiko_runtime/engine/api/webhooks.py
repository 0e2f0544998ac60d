"""Humanitec webhooks and events (seed 003, backends-notes §1.6).

A webhook is a Humanitec "Job": ``/orgs/{orgId}/apps/{appId}/webhooks[/{jobId}]``, and
``DELETE /orgs/{orgId}/apps/{appId}/jobs`` removes every one of an app. Ids are unique within
the org (409 otherwise). ``GET /orgs/{orgId}/events`` lists what webhooks can trigger on.
Deliveries themselves live in ``deliveries.py``; the journal is ``GET /_engine/deliveries``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ..deliveries import CATALOGUE, WEBHOOKS, known_trigger, webhook_key
from ..errors import BadRequest, Conflict, NotFound
from ..model import iso, now
from ..service import Engine, check_id
from .bodies import json_body
from .documented import documented

WEBHOOK_ID = re.compile(r"^[a-z0-9](?:-?[a-z0-9]+)*$")
FIELDS = ("id", "url", "headers", "payload", "triggers", "disabled")


def webhook_doc(hook: dict[str, Any]) -> dict[str, Any]:
    doc = {"id": hook["id"], "url": hook["url"], "headers": hook.get("headers") or {},
           "payload": hook.get("payload") or {}, "triggers": hook.get("triggers") or [],
           "disabled": bool(hook.get("disabled")), "created_at": hook["created_at"], "created_by": hook["created_by"]}
    return doc


def update_doc(hook: dict[str, Any]) -> dict[str, Any]:
    """The PATCH answer: the webhook without id, created_at and created_by."""
    return {k: v for k, v in webhook_doc(hook).items() if k not in ("id", "created_at", "created_by")}


def _validate(body: dict[str, Any], partial: bool) -> dict[str, Any]:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown webhook fields: {', '.join(unknown)}")
    out: dict[str, Any] = {}
    if "id" in body or not partial:
        wid = body.get("id")
        if not isinstance(wid, str) or not WEBHOOK_ID.match(wid) or len(wid) > 50:
            raise BadRequest("'id' is required: lowercase letters, digits and single dashes, max 50")
        out["id"] = wid
    if "url" in body or not partial:
        url = body.get("url")
        if not isinstance(url, str) or not url.strip() or " " in url:
            raise BadRequest("'url' must be a URL (https://… or host/path; http:// is accepted locally)")
        out["url"] = url.strip()
    for name in ("headers", "payload"):
        if name in body:
            value = body[name] if body[name] is not None else {}
            if not isinstance(value, dict):
                raise BadRequest(f"'{name}' must be an object")
            if name == "headers" and any(not isinstance(v, (str, int, float, bool)) for v in value.values()):
                raise BadRequest("'headers' values must be strings")
            out[name] = value
    if "triggers" in body:
        triggers = body["triggers"] if body["triggers"] is not None else []
        if not isinstance(triggers, list) or any(not isinstance(t, dict) for t in triggers):
            raise BadRequest("'triggers' must be a list of {scope, type}")
        for t in triggers:
            if not known_trigger(t.get("scope"), t.get("type")):
                raise BadRequest(f"unknown trigger {t.get('scope')}/{t.get('type')}: see GET /orgs/{{orgId}}/events")
        out["triggers"] = [{"scope": t["scope"], "type": t["type"]} for t in triggers]
    if "disabled" in body:
        if body["disabled"] is not None and not isinstance(body["disabled"], bool):
            raise BadRequest("'disabled' must be a boolean")
        out["disabled"] = bool(body["disabled"])
    return out


class WebhooksAPI:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    def routes(self, prefix: str = "") -> list[web.RouteDef]:
        a = prefix + "/orgs/{org}/apps/{app}"
        return [
            web.get(a + "/webhooks", self.list),
            web.post(a + "/webhooks", documented(self.create, 201, 400, 409)),
            web.get(a + "/webhooks/{hook}", documented(self.get, 200, 404)),
            web.patch(a + "/webhooks/{hook}", documented(self.patch, 200, 400, 404)),
            web.delete(a + "/webhooks/{hook}", documented(self.delete, 204, 404)),
            web.delete(a + "/jobs", self.delete_all),
            web.get(prefix + "/orgs/{org}/events", self.catalogue),
        ]

    def _ids(self, request: web.Request) -> tuple[str, str]:
        m = request.match_info
        return check_id("org id", m["org"]), check_id("app id", m["app"])

    def _hook(self, request: web.Request) -> dict[str, Any]:
        org, app = self._ids(request)
        hook = self.store.docs[WEBHOOKS].get(webhook_key(org, app, request.match_info["hook"]))
        if hook is None:
            raise NotFound(f"webhook {request.match_info['hook']!r} not found in app {app!r}")
        return hook

    async def list(self, request: web.Request) -> web.Response:
        m = request.match_info  # documented: 200 only; an id that cannot exist matches nothing
        org, app = m["org"], m["app"]
        hooks = [h for h in self.store.docs[WEBHOOKS].values() if (h["org_id"], h["app_id"]) == (org, app)]
        return web.json_response([webhook_doc(h) for h in hooks])

    async def create(self, request: web.Request) -> web.Response:
        org, app = self._ids(request)
        body = await json_body(request)
        if not isinstance(body, dict):
            raise BadRequest("the body must be a webhook object")
        fields = _validate(body, partial=False)
        clash = next((h for h in self.store.docs[WEBHOOKS].values()
                      if h["org_id"] == org and h["id"] == fields["id"]), None)
        if clash is not None:
            raise Conflict(f"a job with id {fields['id']!r} already exists in org {org!r} (app {clash['app_id']!r})")
        hook = {"org_id": org, "app_id": app, "headers": {}, "payload": {}, "triggers": [], "disabled": False,
                **fields, "created_at": iso(now()), "created_by": request.headers.get("X-Naftiko-User", "local-user")}
        await self.store.save_doc(WEBHOOKS, webhook_key(org, app, hook["id"]), hook)
        return web.json_response(webhook_doc(hook), status=201)

    async def get(self, request: web.Request) -> web.Response:
        return web.json_response(webhook_doc(self._hook(request)))

    async def patch(self, request: web.Request) -> web.Response:
        hook = self._hook(request)
        body = await json_body(request)
        if not isinstance(body, dict):
            raise BadRequest("the body must be a webhook object")
        fields = _validate(body, partial=True)
        if "id" in fields and fields["id"] != hook["id"]:
            raise BadRequest("a webhook's id cannot be changed")
        updated = {**hook, **fields}
        await self.store.save_doc(WEBHOOKS, webhook_key(hook["org_id"], hook["app_id"], hook["id"]), updated)
        return web.json_response(update_doc(updated))

    async def delete(self, request: web.Request) -> web.Response:
        hook = self._hook(request)
        await self.store.delete_docs(WEBHOOKS, webhook_key(hook["org_id"], hook["app_id"], hook["id"]))
        return web.Response(status=204)

    async def delete_all(self, request: web.Request) -> web.Response:
        m = request.match_info  # documented: 204 only
        org, app = m["org"], m["app"]
        keys = [webhook_key(org, app, h["id"]) for h in self.store.docs[WEBHOOKS].values()
                if (h["org_id"], h["app_id"]) == (org, app)]
        if keys:
            await self.store.delete_docs(WEBHOOKS, *keys)
        return web.Response(status=204)

    async def catalogue(self, request: web.Request) -> web.Response:
        return web.json_response([dict(e, properties=list(e["properties"])) for e in CATALOGUE])
