"""Inngest-style event triggers: ``POST /e/{key}`` with ``{name, data}`` starts every pipeline
whose ``on`` names that event (``on: {event: {name: demo/app.push}}``), in any org and app.

Events are stored documents (``docs`` kind ``events``) keyed by a ULID, remembering the runs
they started, so ``GET /v1/events/{id}/runs`` can list them. An event sent again with the same
client ``id`` is a duplicate: it starts nothing and answers the first event's id.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .errors import BadRequest
from .ids import new_ulid
from .model import Run, iso, now

if TYPE_CHECKING:
    from .service import Engine

EVENTS = "events"


def event_pipelines(engine: Engine, name: str) -> list[Any]:
    """(pipeline, definition) pairs triggered by event ``name``, in a stable order."""
    out = []
    for key in sorted(engine.store.pipelines):
        pipeline = engine.store.pipelines[key]
        if "event" not in pipeline.trigger_types:
            continue
        defn = engine.definition(pipeline)
        if name in defn.event_names():
            out.append((pipeline, defn))
    return out


async def send_event(engine: Engine, body: Any, created_by: str = "inngest-event", source_key: str = "",
                     source: str = "key") -> str:
    """Record one event and start the pipelines it triggers; returns the event's ULID.

    ``source_key`` is the event key (or webhook key) it came in by, ``source`` which of the two."""
    if not isinstance(body, dict):
        raise BadRequest("each event must be a JSON object with 'name' and 'data'")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("the event needs a non-empty 'name'")
    data = body.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadRequest("'data' must be a JSON object")
    client_id = body.get("id")
    if client_id:
        for doc in engine.store.docs[EVENTS].values():
            if doc.get("id") == str(client_id) and doc["name"] == name:
                return doc["internal_id"]
    ulid = new_ulid()
    ts = body.get("ts") if isinstance(body.get("ts"), int) else int(time.time() * 1000)
    run_ids: list[str] = []
    for pipeline, defn in event_pipelines(engine, name):
        inputs = {name: spec.default for name, spec in defn.inputs.items() if spec.default is not None}
        inputs.update(data)  # declared pipeline_call defaults, overridden by the event's data
        run, _ = await engine.start_run(pipeline, defn, "event", inputs, None, "", False, created_by,
                                        event_id=ulid)
        if run is not None:
            run_ids.append(run.id)
    doc = {"internal_id": ulid, "id": str(client_id) if client_id else ulid, "name": name, "data": data,
           "user": body.get("user") or {}, "ts": ts, "v": body.get("v"), "receivedAt": iso(now()),
           "run_ids": run_ids, "source": source, "source_key": source_key}
    await engine.store.save_doc(EVENTS, ulid, doc)
    return ulid


def get_event(engine: Engine, ulid: str) -> dict[str, Any] | None:
    return engine.store.docs[EVENTS].get(ulid)


def event_runs(engine: Engine, ulid: str) -> list[Run]:
    doc = get_event(engine, ulid) or {}
    return [engine.store.runs[r] for r in doc.get("run_ids", []) if r in engine.store.runs]
