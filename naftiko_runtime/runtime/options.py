"""What `naftiko run` (and `naftiko call`) were asked to do: the options, and the one error that stops a start."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..limits import DEFAULT_MAX_BODY, DEFAULT_MAX_CONCURRENCY, ConnectionLimits


class StartupError(Exception):
    """A reason not to start, said in one line."""


@dataclass
class RunOptions:
    files: list[Path]
    host: str | None = None
    rest_port: int | None = None
    mcp_port: int | None = None
    skill_port: int | None = None
    control_port: int | None = None
    upstreams: dict[str, str] = field(default_factory=dict)
    mode: str = "auto"  # auto | local | live
    engine_port: int | None = None  # None: 8700, or a free port with --stdio (see listening)
    engine_url: str | None = None  # an engine already running: local-engine namespaces use it, none is started
    engine_db: str | None = None
    stdio: bool = False
    allowed_hosts: list[str] = field(default_factory=list)
    cors_origins: list[str] = field(default_factory=list)  # browser origins allowed on the REST and MCP ports
    connect_timeout: float = 5.0
    total_timeout: float = 30.0
    max_body: int = DEFAULT_MAX_BODY
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY  # concurrent upstream calls per namespace; 0: no limit
    http_client: str = "aiohttp"  # the upstream HTTP client: aiohttp, or pyreqwest (the `fast` extra)
    shutdown_grace: float = 10.0
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)  # per listening port
    metrics_port: int | None = None
    watch: bool = False
    watch_interval: float = 1.0
    env: dict[str, str] | None = None
    workers: int = 1  # processes serving the same ports (SO_REUSEPORT); see runtime.workers
    strict: bool = False  # refuse a file with any error, instead of disabling only its broken parts
