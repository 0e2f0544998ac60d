"""The bundled local pipeline engine: a separate aiohttp service speaking the Humanitec API
(pipelines, runs, webhooks), Inngest REST v1, the generic Pipelines API (seed 001) and the
pipeline-runs v0 API (seed 002), all over one store of runs.

It imports nothing from the rest of ``naftiko_runtime``; the runtime reaches it over HTTP.
``start_engine()`` runs it inside an existing event loop; ``naftiko engine serve`` runs it alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from .app import build_app
from .service import FIXTURES_DIR, Engine

__all__ = ["FIXTURES_DIR", "Engine", "EngineHandle", "default_db_path", "start_engine"]


def default_db_path() -> str:
    """``${NAFTIKO_DATA_DIR:-~/.local/share/naftiko}/engine.db``."""
    base = os.environ.get("NAFTIKO_DATA_DIR") or os.path.join(os.path.expanduser("~"), ".local", "share", "naftiko")
    return os.path.join(base, "engine.db")


@dataclass
class EngineHandle:
    """A running engine: where it listens and how to stop it."""

    engine: Engine
    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        """Stop accepting requests, stop running pipelines, close the database."""
        await self.runner.cleanup()  # on_shutdown/on_cleanup close the engine


async def start_engine(host: str = "127.0.0.1", port: int = 8700, db: str = ":memory:",
                       pipelines_dir: str | Path | None = None, allow_api_scripts: bool = False,
                       strict_auth: str | None = None, webhook_attempts: int = 5,
                       webhook_backoff: float = 0.5) -> EngineHandle:
    """Start the engine on ``host:port`` in the running loop (port 0 picks a free port).

    ``webhook_attempts`` bounds the attempts per webhook delivery; ``webhook_backoff`` is the
    first retry delay in seconds (doubling each time, capped at 30 s).
    Raises ``OSError`` when the port is taken; nothing is left running in that case.
    """
    engine = Engine(db=db, pipelines_dir=pipelines_dir, allow_api_scripts=allow_api_scripts,
                    delivery_attempts=webhook_attempts, delivery_backoff=webhook_backoff)
    await engine.start()
    app = build_app(engine, strict_auth=strict_auth)

    async def on_shutdown(_app: web.Application) -> None:
        await engine.close()

    app.on_shutdown.append(on_shutdown)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    actual = runner.addresses[0][1] if runner.addresses else port  # the port really bound (port 0)
    return EngineHandle(engine=engine, runner=runner, host=host, port=actual)
