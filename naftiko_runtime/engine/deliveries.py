"""Webhook deliveries: when a trigger fires, POST each matching webhook's payload, with retries.

Triggers (backends-notes §1.6): ``deployment`` started/finished (published by the ``deploy``
action), ``environment`` created/deleted (the ``environment`` action, or ``POST /_engine/fire``).
A delivery is a stored document (``docs`` kind ``deliveries``) holding the rendered payload, the
headers and every attempt, so it is the journal (``GET /_engine/deliveries``) and survives a
restart: pending deliveries are resumed when the engine starts again.

Retry rule: a network error, a timeout, 429 or any 5xx is retried after ``backoff × 2^(n-1)``
seconds (capped at ``backoff_cap``) until ``max_attempts`` attempts were made; any other 4xx
fails the delivery at once. Deliveries to one webhook go out one at a time, in firing order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from typing import Any

import aiohttp

from . import events
from .events import Event, EventBus
from .model import iso, now
from .store import Store

log = logging.getLogger(__name__)

WEBHOOKS = "webhooks"
DELIVERIES = "deliveries"

COMMON_PROPERTIES = ["event", "org_id", "triggered_at", "triggered_by"]
CATALOGUE: list[dict[str, Any]] = [
    {"scope": "environment", "type": "created",
     "properties": COMMON_PROPERTIES + ["app_id", "env_id", "name", "type"]},
    {"scope": "environment", "type": "deleted",
     "properties": COMMON_PROPERTIES + ["app_id", "env_id", "name", "type"]},
    {"scope": "deployment", "type": "started",
     "properties": COMMON_PROPERTIES + ["app_id", "env_id", "deploy_id", "delta_id", "set_id", "comment", "status"]},
    {"scope": "deployment", "type": "finished",
     "properties": COMMON_PROPERTIES + ["app_id", "env_id", "deploy_id", "delta_id", "set_id", "comment", "status"]},
]
DEFAULT_PAYLOAD = {"event": "${event}", "triggered_at": "${triggered_at}", "triggered_by": "${triggered_by}",
                   "org_id": "${org_id}", "app_id": "${app_id}", "env_id": "${env_id}"}
BUS_TRIGGERS = {
    events.DEPLOYMENT_STARTED: ("deployment", "started"),
    events.DEPLOYMENT_FINISHED: ("deployment", "finished"),
    events.ENVIRONMENT_CREATED: ("environment", "created"),
    events.ENVIRONMENT_DELETED: ("environment", "deleted"),
}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def known_trigger(scope: Any, type_: Any) -> bool:
    return any(e["scope"] == scope and e["type"] == type_ for e in CATALOGUE)


def webhook_key(org_id: str, app_id: str, webhook_id: str) -> str:
    return f"{org_id}/{app_id}/{webhook_id}"


def fill(value: Any, params: dict[str, Any]) -> Any:
    """Replace ``${param}`` in strings (recursively). A string that is one placeholder keeps the
    parameter's type; unknown placeholders are left as written."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in params:
            return params[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), value)
    if isinstance(value, list):
        return [fill(v, params) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, params) for k, v in value.items()}
    return value


def delivery_url(url: str) -> str:
    """The spec stores URLs without a protocol (HTTPS implied); full http(s) URLs are kept."""
    return url if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url) else f"https://{url}"


class Deliveries:
    """Fires webhooks for trigger events and drives each delivery to delivered or failed."""

    def __init__(self, store: Store, bus: EventBus, max_attempts: int = 5, backoff: float = 0.5, backoff_cap: float = 30.0,
                 timeout: float = 10.0) -> None:
        self.store = store
        self.bus = bus
        self.max_attempts = max(1, max_attempts)
        self.backoff = max(0.0, backoff)
        self.backoff_cap = backoff_cap
        self.timeout = timeout
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.firing: set[asyncio.Task[Any]] = set()
        self.locks: dict[str, asyncio.Lock] = {}
        self._session: aiohttp.ClientSession | None = None
        self._unsubscribe = bus.on(self._on_event)

    # -- lifecycle -------------------------------------------------------------------------

    def resume(self) -> None:
        """Start every delivery still pending (after a restart)."""
        for doc in list(self.store.docs[DELIVERIES].values()):
            if doc["status"] == "pending":
                self._start(doc["id"])

    async def stop(self) -> None:
        """Stop delivering; pending deliveries stay pending in the store."""
        tasks = list(self.firing) + list(self.tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()
        self.firing.clear()
        self.locks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- firing ----------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        trigger = BUS_TRIGGERS.get(event.type)
        if trigger is None:
            return
        task = asyncio.ensure_future(self.fire(*trigger, dict(event.data), at=event.at))
        self.firing.add(task)
        task.add_done_callback(self.firing.discard)

    def matching(self, org_id: str, app_id: str, scope: str, type_: str) -> list[dict[str, Any]]:
        out = []
        for hook in self.store.docs[WEBHOOKS].values():
            if (hook["org_id"], hook["app_id"]) != (org_id, app_id) or hook.get("disabled"):
                continue
            triggers = hook.get("triggers") or []
            if not triggers or any(t.get("scope") == scope and t.get("type") == type_ for t in triggers):
                out.append(hook)
        return out

    def params(self, scope: str, type_: str, data: dict[str, Any], at: Any = None) -> dict[str, Any]:
        triggered_by = data.get("triggered_by")
        if not triggered_by and data.get("run_id"):
            run = self.store.runs.get(str(data["run_id"]))
            triggered_by = run.created_by if run else None
        params: dict[str, Any] = {
            "event": f"{scope}.{type_}", "org_id": data.get("org_id", ""),
            "triggered_at": iso(at or now()), "triggered_by": triggered_by or "local-user",
            "app_id": data.get("app_id", ""), "env_id": data.get("env_id", ""),
        }
        if scope == "deployment":
            for key in ("deploy_id", "delta_id", "set_id", "comment", "status"):
                params[key] = "" if data.get(key) is None else data[key]
        else:
            params["name"] = data.get("name") or data.get("env_id", "")
            params["type"] = data.get("type") or data.get("env_type") or "development"
        return params

    async def fire(self, scope: str, type_: str, data: dict[str, Any], at: Any = None) -> list[dict[str, Any]]:
        """Create one delivery per matching webhook and start them; returns the deliveries."""
        org_id, app_id = str(data.get("org_id", "")), str(data.get("app_id", ""))
        params = self.params(scope, type_, data, at)
        created = []
        for hook in self.matching(org_id, app_id, scope, type_):
            payload = hook.get("payload")
            doc = {
                "id": str(uuid.uuid4()), "webhook_id": hook["id"], "org_id": org_id, "app_id": app_id,
                "scope": scope, "type": type_, "event": params["event"], "url": delivery_url(hook["url"]),
                "headers": {str(k): str(v) for k, v in (hook.get("headers") or {}).items()},
                "payload": fill(payload if payload else DEFAULT_PAYLOAD, params),
                "status": "pending", "attempts": [], "created_at": iso(now()), "updated_at": iso(now()),
                "next_attempt_at": iso(now()),
            }
            await self.store.save_doc(DELIVERIES, doc["id"], doc)
            self._start(doc["id"])
            created.append(doc)
        return created

    # -- delivering ------------------------------------------------------------------------

    def _start(self, delivery_id: str) -> None:
        if delivery_id in self.tasks:
            return
        task = asyncio.ensure_future(self._deliver(delivery_id))
        self.tasks[delivery_id] = task
        task.add_done_callback(lambda _t: self.tasks.pop(delivery_id, None))

    def _delay(self, attempt: int) -> float:
        return min(self.backoff * (2 ** (attempt - 1)), self.backoff_cap)

    async def _deliver(self, delivery_id: str) -> None:
        doc = self.store.docs[DELIVERIES].get(delivery_id)
        if doc is None:
            return
        lock = self.locks.setdefault(webhook_key(doc["org_id"], doc["app_id"], doc["webhook_id"]), asyncio.Lock())
        async with lock:
            while doc["status"] == "pending":
                attempt = len(doc["attempts"]) + 1
                record, retry = await self._attempt(doc, attempt)
                doc = dict(doc, attempts=[*doc["attempts"], record], updated_at=iso(now()))
                if record["ok"]:
                    doc.update(status="delivered", next_attempt_at=None)
                elif not retry or attempt >= self.max_attempts:
                    doc.update(status="failed", next_attempt_at=None)
                else:
                    delay = self._delay(attempt)
                    doc["next_attempt_at"] = iso(now()) if delay == 0 else _later(delay)
                if self.store.docs[DELIVERIES].get(delivery_id) is None:
                    return  # wiped by a reset meanwhile
                await self.store.save_doc(DELIVERIES, delivery_id, doc)
                self.bus.publish("webhook.delivery", {"id": delivery_id, "status": doc["status"],
                                                             "attempt": attempt})
                if doc["status"] == "pending":
                    await asyncio.sleep(self._delay(attempt))

    async def _attempt(self, doc: dict[str, Any], attempt: int) -> tuple[dict[str, Any], bool]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        headers = {"Content-Type": "application/json", "User-Agent": "naftiko-local-engine",
                   "X-Naftiko-Delivery": doc["id"], "X-Naftiko-Attempt": str(attempt), **doc["headers"]}
        started = time.monotonic()
        record: dict[str, Any] = {"attempt": attempt, "at": iso(now()), "status_code": None, "error": None}
        retry = True
        try:
            async with self._session.post(doc["url"], data=json.dumps(doc["payload"]), headers=headers) as resp:
                record["status_code"] = resp.status
                record["response"] = (await resp.text())[:500]
                retry = resp.status >= 500 or resp.status == 429
                if resp.status >= 300:
                    record["error"] = f"answered {resp.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            record["error"] = f"{type(exc).__name__}: {exc}".rstrip(": ")
        record["duration_ms"] = int((time.monotonic() - started) * 1000)
        record["ok"] = record["status_code"] is not None and 200 <= record["status_code"] < 300
        if not record["ok"]:
            log.info("webhook delivery %s attempt %d failed: %s", doc["id"], attempt, record["error"])
        return record, retry

    # -- reading ---------------------------------------------------------------------------

    def journal(self, webhook_id: str | None = None, status: str | None = None, org_id: str | None = None,
                app_id: str | None = None) -> list[dict[str, Any]]:
        """Deliveries, oldest first, optionally filtered."""
        return [d for d in self.store.docs[DELIVERIES].values()
                if (webhook_id is None or d["webhook_id"] == webhook_id) and (status is None or d["status"] == status)
                and (org_id is None or d["org_id"] == org_id) and (app_id is None or d["app_id"] == app_id)]


def _later(seconds: float) -> str | None:
    from datetime import timedelta

    return iso(now() + timedelta(seconds=seconds))
