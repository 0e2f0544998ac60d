"""Which servers `naftiko run` opens, decided once from the options.

Over stdio a client (a desktop agent, MCP Inspector's CLI) starts one process per session or
even per call: each must not take fixed ports another one holds. So `--stdio` opens no REST,
skill or control listener unless its port option is given, and the local engine does not take
its fixed port unless `--engine-port` is given. `--engine-url URL` points the local-engine
namespaces of any mode at an engine that is already running (`naftiko engine`), so runs survive
from one process to the next; no engine is started then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_ENGINE_PORT = 8700


@dataclass(frozen=True)
class Listening:
    rest: bool
    skill: bool
    control: bool
    engine_url: str | None  # an engine already running: used as is, none is started
    engine_port: int  # where a started engine listens (0: a free port)


def listening(options: Any) -> Listening:
    """The plan for these RunOptions (`engine_port` None: not given)."""
    stdio = bool(options.stdio)
    engine_port = options.engine_port if options.engine_port is not None else (0 if stdio else DEFAULT_ENGINE_PORT)
    return Listening(
        rest=not stdio or options.rest_port is not None,
        skill=not stdio or options.skill_port is not None,
        control=not stdio or options.control_port is not None,
        engine_url=(options.engine_url or "").rstrip("/") or None,
        engine_port=engine_port,
    )
