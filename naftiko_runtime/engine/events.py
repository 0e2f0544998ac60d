"""An in-process event bus: every state change is published here, subscribers fan out.

Part 2 (webhooks, WebSocket pushes, the journal) subscribes instead of patching the
executor. Publishing never blocks: each subscriber owns an unbounded queue or a callback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .model import now

log = logging.getLogger(__name__)

# Event types published by part 1.
RUN_CREATED = "run.created"
RUN_UPDATED = "run.updated"
RUN_DELETED = "run.deleted"
JOB_UPDATED = "job.updated"
STEP_UPDATED = "step.updated"
STEP_LOG = "step.log"
APPROVAL_CREATED = "approval.created"
APPROVAL_UPDATED = "approval.updated"
DEPLOYMENT_STARTED = "deployment.started"
DEPLOYMENT_FINISHED = "deployment.finished"
ENVIRONMENT_CREATED = "environment.created"  # part 2: the `environment` action, POST /_engine/fire
ENVIRONMENT_DELETED = "environment.deleted"
NOTIFY = "notify"
PIPELINE_CHANGED = "pipeline.changed"
ENGINE_RESET = "engine.reset"


@dataclass(frozen=True)
class Event:
    type: str
    data: dict[str, Any]
    at: datetime = field(default_factory=now)


class EventBus:
    """Fan-out to queues (``subscribe()``) and plain callbacks (``on()``)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()
        self._callbacks: list[Callable[[Event], None]] = []

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._queues.discard(queue)

    def on(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Register a synchronous callback; returns a function that removes it."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def publish(self, type: str, data: dict[str, Any]) -> Event:
        event = Event(type, data)
        for queue in list(self._queues):
            queue.put_nowait(event)
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:  # a broken subscriber must not break a run
                log.exception("event subscriber failed on %s", type)
        return event
