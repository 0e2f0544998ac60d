"""The bundled local engine, started when the plan sends a namespace to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...logs import LOGGER
from ..options import StartupError


class EngineServer:
    kind = "engine"

    def __init__(self, port: int, db: str | None) -> None:
        self.requested, self.db = port, db
        self.handle: Any = None

    @property
    def ready(self) -> bool:
        return self.handle is not None

    @property
    def port(self) -> int | None:
        return self.handle.port if self.handle is not None else None

    @property
    def url(self) -> str:
        assert self.handle is not None
        return str(self.handle.url)

    async def start(self) -> int:
        from ...engine import default_db_path, start_engine

        db = self.db or default_db_path()
        if db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.handle = await start_engine(host="127.0.0.1", port=self.requested, db=db)
        except OSError as exc:
            raise StartupError(f"local engine: cannot listen on 127.0.0.1:{self.requested}: {exc.strerror or exc}") from None
        LOGGER.info("local engine started", extra={"url": self.url, "page": f"{self.url}/ui", "db": db})
        return int(self.handle.port)

    async def stop(self) -> None:
        if self.handle is not None:
            await self.handle.close()
            self.handle = None
