"""Inngest REST API v1 (``inngest-api-v1.yaml``): function runs and events, over the same runs.

Run ids: the engine keeps one id per run, a UUIDv7; Inngest sees the same 128 bits spelled as
a 26-character ULID (``ids.run_ulid``), which decodes back losslessly. Responses use the
``{data, metadata: {fetchedAt, cachedUntil}}`` envelope, errors ``{error, status, data}``.
Only documented statuses are answered: a run id that is not a ULID is not found (404); the
jobs of an unknown run are an empty list and cancelling one is a 204 (both document no 404).
Signals, cancellations and webhooks are in ``inngest_control``. ``POST /e/{eventKey}`` sends
events (see ``event_triggers``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..errors import BadRequest, NotFound
from ..event_triggers import EVENTS, event_runs, get_event, send_event
from ..ids import is_ulid
from ..service import Engine
from .bodies import json_body
from .inngest_docs import (
    WEBHOOKS,
    envelope,
    event_doc,
    find_run,
    job_docs,
    run_doc,
    webhook_event,
    when,
)


class InngestAPI:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/runs/{run}", self.get_run),
            web.delete("/v1/runs/{run}", self.cancel),
            web.post("/v1/runs/{run}/cancel", self.cancel),  # the seeded capability's spelling
            web.get("/v1/runs/{run}/jobs", self.jobs),
            web.get("/v1/events", self.list_events),
            web.get("/v1/events/{event}", self.get_event),
            web.get("/v1/events/{event}/runs", self.event_runs),
            web.post("/e/{key}", self.send),
        ]

    # -- runs ------------------------------------------------------------------------------

    async def get_run(self, request: web.Request) -> web.Response:
        raw = request.match_info["run"]
        run = find_run(self.engine, raw)
        if run is None:
            raise NotFound(f"Unable to load function run: {raw}")
        return envelope(run_doc(self.engine, run))

    async def cancel(self, request: web.Request) -> web.Response:
        """200 when a running run was cancelled; 204 when there was nothing to cancel."""
        run = find_run(self.engine, request.match_info["run"])
        if run is None or run.terminal:
            return web.Response(status=204)
        await self.engine.cancel_run(run)
        return web.Response(status=200)

    async def jobs(self, request: web.Request) -> web.Response:
        run = find_run(self.engine, request.match_info["run"])
        return envelope(job_docs(self.engine.list_jobs(run)) if run is not None else [])

    # -- events ----------------------------------------------------------------------------

    def _event(self, request: web.Request) -> dict[str, Any]:
        raw = request.match_info["event"]
        doc = get_event(self.engine, raw) if is_ulid(raw) else None
        if doc is None:
            raise NotFound(f"event not found: {raw}")
        return doc

    async def list_events(self, request: web.Request) -> web.Response:
        """Newest first; ``cursor`` (an event's internal id) continues after that event."""
        q = request.query
        docs = list(reversed(self.engine.store.docs[EVENTS].values()))
        if q.get("name"):
            docs = [d for d in docs if d["name"] == q["name"]]
        before, after = when(q.get("received_before")), when(q.get("received_after"))
        if before or after:
            docs = [d for d in docs if (not before or when(d["receivedAt"]) < before)
                    and (not after or when(d["receivedAt"]) > after)]
        if q.get("cursor"):
            ids = [d["internal_id"] for d in docs]
            docs = docs[ids.index(q["cursor"]) + 1:] if q["cursor"] in ids else docs
        try:
            limit = max(1, min(int(float(q.get("limit", "100"))), 100))
        except (ValueError, OverflowError):
            limit = 100
        return envelope([event_doc(d) for d in docs[:limit]])

    async def get_event(self, request: web.Request) -> web.Response:
        return envelope(event_doc(self._event(request)))

    async def event_runs(self, request: web.Request) -> web.Response:
        doc = self._event(request)
        return envelope([run_doc(self.engine, r) for r in event_runs(self.engine, doc["internal_id"])])

    async def send(self, request: web.Request) -> web.Response:
        body = await json_body(request, required=False)
        if body is None:
            raise BadRequest("send an event {name, data} or a list of events")
        key = request.match_info["key"]
        hook = next((h for h in self.engine.store.docs[WEBHOOKS].values() if h["key"] == key), None)
        items = body if isinstance(body, list) else [body]
        if hook is not None:  # an Inngest webhook URL: each request body becomes one event
            items = [webhook_event(item) for item in items]
        ids = [await send_event(self.engine, item, source_key=key,
                                source="webhook" if hook is not None else "key") for item in items]
        return web.json_response({"ids": ids, "status": 200})

