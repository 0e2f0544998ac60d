"""Inngest REST v1's control operations: signals, bulk cancellations, webhooks — each acting on
the engine's one run model.

- ``POST /v1/signals`` resumes a run waiting in an ``approve`` step: the signal is the
  approval's id, or the waiting run's id (ULID); ``data: false`` or ``{"approved": false}``
  denies, anything else approves.
- A cancellation cancels every matching run that has not ended (``app_id``, ``function_id`` =
  the pipeline id or the run documents' ``function_id``, ``started_after`` ≤ created <
  ``started_before``, ``if`` an engine expression over ``event.data``), now and, while it
  exists, runs created later that match.
- A webhook is an inbound URL (``…/e/<key>``): each request to it is sent as an event (the
  default transform; a webhook's JavaScript ``transform`` is kept, not run).

These operations document only 200 (signals also 401): a refused request is a 200 whose body
carries ``error`` (CreateCancellation's documented field), so generated clients can read it.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .. import events
from ..errors import EngineError
from ..expressions import ExpressionError, condition
from ..ids import new_ulid, run_ulid, stable_uuid
from ..model import Run, iso, now
from ..service import Engine
from .bodies import json_body
from .inngest_docs import CANCELLATIONS, ENVIRONMENT_ID, WEBHOOKS, find_run, when

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
WEBHOOK_FIELDS = ("id", "name", "url", "transform", "created_at", "updated_at")


def errors_in_body(handler: Handler) -> Handler:
    """For operations documenting 200 only: a refusal is ``200 {"error": …}``."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except EngineError as exc:
            return web.json_response({"error": exc.message})

    return wrapped


def _refuse(message: str) -> web.Response:
    return web.json_response({"error": message})


def cancellation_doc(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k in ("id", "environment_id", "function_internal_id", "function_id",
                                                   "started_before", "started_after", "if")}


class InngestControlAPI:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        self.pending: set[asyncio.Task[None]] = set()
        engine.bus.on(self._on_event)

    async def close(self, _app: web.Application | None = None) -> None:
        """Finish cancellations still in flight (an ``on_shutdown`` hook, before the store closes)."""
        if self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)

    def routes(self) -> list[web.RouteDef]:
        e = errors_in_body
        return [
            web.post("/v1/signals", e(self.signal)),
            web.get("/v1/cancellations", e(self.list_cancellations)),
            web.post("/v1/cancellations", e(self.create_cancellation)),
            web.delete("/v1/cancellations/{id}", e(self.delete_cancellation)),
            web.get("/v1/webhooks", e(self.list_webhooks)),
            web.post("/v1/webhooks", e(self.create_webhook)),
            web.get("/v1/webhooks/{id}", e(self.get_webhook)),
            web.put("/v1/webhooks/{id}", e(self.update_webhook)),
            web.delete("/v1/webhooks/{id}", e(self.delete_webhook)),
        ]

    # -- signals ---------------------------------------------------------------------------

    async def signal(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("signal"), str):
            return _refuse("send {signal, data}: 'signal' names the waiting approval or run")
        signal, data = body["signal"], body.get("data")
        run = find_run(self.engine, signal)
        approval = next((a for a in self.store.approvals.values() if a.status == "waiting"
                         and (a.id == signal or (run is not None and a.run_id == run.id))), None)
        if approval is None:
            return _refuse(f"no run is waiting for signal {signal!r}")
        deny = data is False or (isinstance(data, dict) and data.get("approved") is False)
        await self.engine.decide_approval(approval, not deny, "inngest-signal")
        return web.json_response({"run_id": run_ulid(approval.run_id)})

    # -- cancellations ---------------------------------------------------------------------

    async def list_cancellations(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [cancellation_doc(d) for d in self.store.docs[CANCELLATIONS].values()]})

    async def create_cancellation(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            return _refuse("send {app_id, function_id, started_before}")
        missing = [k for k in ("app_id", "function_id", "started_before") if not isinstance(body.get(k), str)]
        if missing:
            return _refuse(f"missing {', '.join(missing)}")
        for key in ("started_before", "started_after"):
            if body.get(key) is not None and when(body[key]) is None:
                return _refuse(f"'{key}' must be an RFC 3339 date-time with a time zone")
        expr = body.get("if")
        if expr is not None and not isinstance(expr, str):
            return _refuse("'if' must be an expression string")
        app_id, function_id = body["app_id"], body["function_id"]
        pipeline = next((p for p in self.store.pipelines.values() if p.app_id == app_id and function_id in
                         (p.id, stable_uuid(p.org_id, p.app_id, p.id))), None)
        doc = {"id": new_ulid(), "environment_id": ENVIRONMENT_ID,
               "function_internal_id": stable_uuid(pipeline.org_id, pipeline.app_id, pipeline.id) if pipeline
               else stable_uuid(app_id, function_id),
               "function_id": function_id, "started_before": body["started_before"], "app_id": app_id}
        if body.get("started_after") is not None:
            doc["started_after"] = body["started_after"]
        if expr is not None:
            doc["if"] = expr
            try:
                condition(expr, {"event": {"data": {}}})
            except ExpressionError as exc:
                return _refuse(f"'if' is not a valid expression: {exc}")
        await self.store.save_doc(CANCELLATIONS, doc["id"], doc)
        for run in [r for r in self.store.runs.values() if self._matches(doc, r)]:
            await self.engine.cancel_run(run)
        return web.json_response({"data": cancellation_doc(doc)})

    async def delete_cancellation(self, request: web.Request) -> web.Response:
        key = request.match_info["id"]
        if key in self.store.docs[CANCELLATIONS]:
            await self.store.delete_docs(CANCELLATIONS, key)
        return web.Response(status=200)

    def _matches(self, doc: dict[str, Any], run: Run) -> bool:
        if run.terminal or run.app_id != doc["app_id"]:
            return False
        if doc["function_id"] not in (run.pipeline_id, stable_uuid(run.org_id, run.app_id, run.pipeline_id)):
            return False
        before, after = when(doc["started_before"]), when(doc.get("started_after"))
        if before is None or run.created_at >= before or (after is not None and run.created_at < after):
            return False
        if doc.get("if"):
            try:
                return condition(doc["if"], {"event": {"data": dict(run.inputs)}, "inputs": dict(run.inputs)})
            except ExpressionError:
                return False
        return True

    def _on_event(self, event: events.Event) -> None:
        """A run created while a cancellation covers it is cancelled too."""
        if event.type != events.RUN_CREATED or not self.store.docs[CANCELLATIONS]:
            return
        run = self.store.runs.get(event.data.get("run_id", ""))
        if run is not None and any(self._matches(d, run) for d in self.store.docs[CANCELLATIONS].values()):
            task = asyncio.get_running_loop().create_task(self._cancel(run))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)

    async def _cancel(self, run: Run) -> None:
        if not run.terminal:
            await self.engine.cancel_run(run)

    # -- webhooks --------------------------------------------------------------------------

    def _webhook_doc(self, request: web.Request, hook: dict[str, Any]) -> dict[str, Any]:
        doc = {k: hook[k] for k in WEBHOOK_FIELDS if k in hook and k != "url"}
        doc["url"] = f"{request.url.origin()}/e/{hook['key']}"
        return doc

    async def _fields(self, request: web.Request) -> dict[str, Any]:
        body = await json_body(request)
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            body = body["data"]  # the description wraps the webhook in {data: …}
        if not isinstance(body, dict):
            raise EngineError("send a webhook {name, transform}")
        out = {}
        for key in ("name", "transform"):
            if body.get(key) is not None:
                if not isinstance(body[key], str):
                    raise EngineError(f"'{key}' must be a string")
                out[key] = body[key]
        return out

    def _hook(self, request: web.Request) -> dict[str, Any] | None:
        return self.store.docs[WEBHOOKS].get(request.match_info["id"])

    async def list_webhooks(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [self._webhook_doc(request, h) for h in self.store.docs[WEBHOOKS].values()]})

    async def create_webhook(self, request: web.Request) -> web.Response:
        fields = await self._fields(request)
        stamp = iso(now())
        hook = {"id": str(uuid.uuid4()), "name": fields.get("name", ""), "transform": fields.get("transform", ""),
                "key": secrets.token_urlsafe(48), "created_at": stamp, "updated_at": stamp}
        await self.store.save_doc(WEBHOOKS, hook["id"], hook)
        return web.json_response({"data": self._webhook_doc(request, hook)})

    async def get_webhook(self, request: web.Request) -> web.Response:
        hook = self._hook(request)
        if hook is None:
            return _refuse(f"webhook not found: {request.match_info['id']}")
        return web.json_response({"data": self._webhook_doc(request, hook)})

    async def update_webhook(self, request: web.Request) -> web.Response:
        hook = self._hook(request)
        if hook is None:
            return _refuse(f"webhook not found: {request.match_info['id']}")
        hook = {**hook, **await self._fields(request), "updated_at": iso(now())}
        await self.store.save_doc(WEBHOOKS, hook["id"], hook)
        return web.json_response({"data": self._webhook_doc(request, hook)})

    async def delete_webhook(self, request: web.Request) -> web.Response:
        hook = self._hook(request)
        if hook is None:
            return _refuse(f"webhook not found: {request.match_info['id']}")
        await self.store.delete_docs(WEBHOOKS, hook["id"])
        return web.json_response({"data": {"id": hook["id"]}})
