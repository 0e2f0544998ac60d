"""The vendors' own API descriptions (``/work/shared/docs/vendor-apis``) and an engine to test them on.

The engine runs on loopback port 0 in its own thread and event loop, so synchronous clients
(schemathesis, requests) can drive it while the test itself stays synchronous.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from naftiko_runtime.engine import EngineHandle, start_engine

from ..support.paths import SHARED

VENDOR_DIR = Path(SHARED) / "docs" / "vendor-apis"
HUMANITEC_DOC = VENDOR_DIR / "humanitec-openapi.json"
INNGEST_DOC = VENDOR_DIR / "inngest-api-v1.yaml"
HUMANITEC_TAGS = {"Pipelines", "PipelineRuns", "PipelineApprovals", "Event"}
METHODS = ("get", "put", "post", "patch", "delete")
TOKEN = "signkey-test-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def load(path: Path) -> dict[str, Any]:
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def in_scope(doc: dict[str, Any], tags: set[str] | None) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) of the operations the engine serves from ``doc``."""
    out = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is not None and (tags is None or tags & set(op.get("tags", []))):
                out.append((method.upper(), path, op))
    return out


@contextmanager
def engine_in_thread(**kwargs: Any) -> Iterator[EngineHandle]:
    """A real engine on 127.0.0.1:0, served from a background thread until the block ends."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            holder["handle"] = loop.run_until_complete(start_engine(host="127.0.0.1", port=0, **kwargs))
        except BaseException as exc:  # surfaced to the caller below
            holder["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="engine", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise TimeoutError("the engine did not start within 30 s")
    if "error" in holder:
        raise holder["error"]
    handle: EngineHandle = holder["handle"]
    try:
        yield handle
    finally:
        asyncio.run_coroutine_threadsafe(handle.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
