"""`naftiko run`: serve capability files, every option also from NAFTIKO_* variables."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..runtime import RunOptions
from .options import (
    STRICT_HELP,
    _capability_files,
    _parse_upstreams,
    _size,
    _split_env_list,
)


def run_options(*, files: tuple[Path, ...], host: str | None, rest_port: int | None, mcp_port: int | None,
                skill_port: int | None, control_port: int | None, metrics_port: int | None, upstreams: tuple[str, ...],
                mode: str | None, engine_port: int | None, engine_db: str | None, stdio: bool, allowed_hosts: tuple[str, ...],
                cors_origins: tuple[str, ...] = (), timeout: float, connect_timeout: float, max_body: int,
                max_concurrency: int, max_header_size: int,
                header_timeout: float, body_timeout: float, keepalive_timeout: float, max_connections: int,
                shutdown_grace: float, watch: bool, watch_interval: float, engine_url: str | None = None,
                strict: bool = False, http_client: str = "aiohttp", **_: object) -> RunOptions:
    """`naftiko run`'s parameters as the runtime's options (tests build in-process runtimes with it too)."""
    from ..limits import ConnectionLimits
    from ..runtime import RunOptions

    if max_header_size < 1024:
        raise click.BadParameter(f"at least 1k, got {max_header_size} bytes", param_hint="--max-header-size")
    return RunOptions(
        files=_capability_files(files), host=host, rest_port=rest_port, mcp_port=mcp_port, skill_port=skill_port,
        control_port=control_port, upstreams=_parse_upstreams(_split_env_list(upstreams)),
        mode=mode or "auto", engine_port=engine_port, engine_url=engine_url, engine_db=engine_db, stdio=stdio,
        allowed_hosts=list(_split_env_list(allowed_hosts)), cors_origins=list(_split_env_list(cors_origins)),
        total_timeout=timeout, connect_timeout=connect_timeout,
        max_body=max_body, max_concurrency=max_concurrency, http_client=http_client, shutdown_grace=shutdown_grace,
        metrics_port=metrics_port, watch=watch, watch_interval=watch_interval, strict=strict,
        connections=ConnectionLimits(
            max_header_size=max_header_size, header_timeout=header_timeout, body_timeout=body_timeout,
            keepalive_timeout=keepalive_timeout, max_connections=max_connections,
        ),
    )


# Every option of `run` can be set from the environment as NAFTIKO_<OPTION> (README: "Operating it").
# Precedence: the flag, then the environment variable, then the capability file, then the default.
@click.command()
@click.argument("files", nargs=-1, required=True, envvar="NAFTIKO_FILES",
                type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--host", envvar="NAFTIKO_HOST", help="Listen address for every adapter (default: the adapter's address, else 127.0.0.1).")
@click.option("--rest-port", envvar="NAFTIKO_REST_PORT", type=click.IntRange(0, 65535), help="Port for the REST adapters.")
@click.option("--mcp-port", envvar="NAFTIKO_MCP_PORT", type=click.IntRange(0, 65535), help="Port for the MCP adapter.")
@click.option("--skill-port", envvar="NAFTIKO_SKILL_PORT", type=click.IntRange(0, 65535), help="Port for the skill adapter.")
@click.option("--control-port", envvar="NAFTIKO_CONTROL_PORT", type=click.IntRange(0, 65535), help="Port for the control adapter.")
@click.option("--metrics-port", envvar="NAFTIKO_METRICS_PORT", type=click.IntRange(0, 65535),
              help="Serve Prometheus /metrics and the health probes on this port (for files without a control adapter).")
@click.option("--upstream", "upstreams", multiple=True, metavar="NAMESPACE=URL", envvar="NAFTIKO_UPSTREAM",
              help="Send a consumes namespace (or * for all) to URL instead of its baseUri.")
@click.option("--local", "mode", flag_value="local", help="Serve Humanitec and Inngest namespaces from the bundled local engine.")
@click.option("--live", "mode", flag_value="live", help="Never use the local engine; missing credentials are an error.")
@click.option("--mode", "mode", envvar="NAFTIKO_MODE", type=click.Choice(["auto", "local", "live"]), default="auto", show_default=True, help="Engine mode (same as --local/--live).")
@click.option("--engine-port", envvar="NAFTIKO_ENGINE_PORT", type=click.IntRange(0, 65535),
              help="Port of the local engine (default 8700; with --stdio a free port).")
@click.option("--engine-url", envvar="NAFTIKO_ENGINE_URL", metavar="URL",
              help="Use the engine already running at URL (e.g. `naftiko engine`) instead of starting one.")
@click.option("--engine-db", envvar="NAFTIKO_ENGINE_DB", help="SQLite file of the local engine (':memory:' for throwaway).")
@click.option("--stdio", is_flag=True, envvar="NAFTIKO_STDIO", help="Serve the MCP adapter over stdin/stdout, whatever the file says.")
@click.option("--allowed-host", "allowed_hosts", multiple=True, envvar=["NAFTIKO_ALLOWED_HOST", "NAFTIKO_ALLOWED_HOSTS"],
              help="Extra Host/Origin values the MCP endpoint accepts.")
@click.option("--cors-origin", "cors_origins", multiple=True, envvar="NAFTIKO_CORS_ORIGIN", metavar="ORIGIN",
              help="A browser origin (https://app.example.com, or *) allowed to call the REST and MCP ports; none by default.")
@click.option("--timeout", envvar="NAFTIKO_TIMEOUT", type=click.FloatRange(0.1), default=30.0, show_default=True, help="Total upstream timeout in seconds.")
@click.option("--connect-timeout", envvar="NAFTIKO_CONNECT_TIMEOUT", type=click.FloatRange(0.1), default=5.0, show_default=True)
@click.option("--max-body", envvar="NAFTIKO_MAX_BODY", default="10M", show_default=True, callback=_size, metavar="SIZE",
              help="Largest request body accepted (bytes, or 512k, 10M); larger ones get 413.")
@click.option("--max-concurrency", envvar="NAFTIKO_MAX_CONCURRENCY", type=click.IntRange(0), default=256, show_default=True,
              help="Concurrent upstream calls per namespace; more get 503 with Retry-After (0: no limit).")
@click.option("--http-client", envvar="NAFTIKO_HTTP_CLIENT", type=click.Choice(["aiohttp", "pyreqwest"]), default="aiohttp",
              show_default=True, help="The upstream HTTP client; pyreqwest (Rust's reqwest) needs the `fast` extra: pip install 'naftiko-runtime[fast]'.")
@click.option("--max-header-size", envvar="NAFTIKO_MAX_HEADER_SIZE", default="16k", show_default=True, callback=_size, metavar="SIZE",
              help="Largest request line plus headers accepted (REST: per line and per field); larger get 431 (MCP) or 400 (REST).")
@click.option("--header-timeout", envvar="NAFTIKO_HEADER_TIMEOUT", type=click.FloatRange(0.01), default=10.0, show_default=True,
              help="Seconds a connection may take to send a request's headers.")
@click.option("--body-timeout", envvar="NAFTIKO_BODY_TIMEOUT", type=click.FloatRange(0.01), default=30.0, show_default=True,
              help="Longest pause, in seconds, while a request body is being received.")
@click.option("--keepalive-timeout", envvar="NAFTIKO_KEEPALIVE_TIMEOUT", type=click.FloatRange(0.01), default=5.0, show_default=True,
              help="Seconds an idle connection is kept open between requests.")
@click.option("--max-connections", envvar="NAFTIKO_MAX_CONNECTIONS", type=click.IntRange(0), default=1024, show_default=True,
              help="Open connections per port; more are answered 503 and closed (0: no limit).")
@click.option("--shutdown-grace", envvar="NAFTIKO_SHUTDOWN_GRACE", type=click.FloatRange(0), default=10.0, show_default=True,
              help="Seconds in-flight requests may take to finish after SIGTERM.")
@click.option("--watch", is_flag=True, envvar="NAFTIKO_WATCH", help="Reload edited capability files without a restart (an invalid edit is refused).")
@click.option("--watch-interval", envvar="NAFTIKO_WATCH_INTERVAL", type=click.FloatRange(0.05), default=1.0, show_default=True,
              help="Seconds between checks of the files' modification times.")
@click.option("--log-format", envvar="NAFTIKO_LOG_FORMAT", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--log-level", envvar="NAFTIKO_LOG_LEVEL", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True)
@click.option("--strict", is_flag=True, envvar="NAFTIKO_STRICT", help=STRICT_HELP)
@click.option("--workers", envvar="NAFTIKO_WORKERS", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes serving the same ports (SO_REUSEPORT; the ports must be fixed); the local engine runs in one process of its own.")
@click.option("--reuse-port", is_flag=True, envvar="NAFTIKO_REUSE_PORT", hidden=True)  # set by the --workers supervisor
def run(files: tuple[Path, ...], host: str | None, rest_port: int | None, mcp_port: int | None,
        skill_port: int | None, control_port: int | None, metrics_port: int | None, upstreams: tuple[str, ...],
        mode: str, engine_port: int | None, engine_url: str | None, engine_db: str | None, stdio: bool,
        allowed_hosts: tuple[str, ...], cors_origins: tuple[str, ...], timeout: float,
        connect_timeout: float, max_body: int, max_concurrency: int, http_client: str, max_header_size: int, header_timeout: float,
        body_timeout: float, keepalive_timeout: float, max_connections: int, shutdown_grace: float, watch: bool,
        watch_interval: float, log_format: str, log_level: str, strict: bool, workers: int, reuse_port: bool) -> None:
    """Serve the REST, MCP, skill and control adapters of capability FILES (files, or directories of them).

    Every option can also be set from the environment: NAFTIKO_ and the option's name in capitals
    with _ for - (NAFTIKO_REST_PORT, NAFTIKO_MODE, ...); NAFTIKO_UPSTREAM, NAFTIKO_ALLOWED_HOST and
    NAFTIKO_CORS_ORIGIN take several values separated by spaces or commas. A flag wins over the environment, the
    environment over the capability file, the file over the defaults.
    """
    import asyncio
    import dataclasses

    from .. import logs
    from ..runtime import StartupError, run_forever

    logs.configure(log_format, log_level)
    options = run_options(files=files, host=host, rest_port=rest_port, mcp_port=mcp_port, skill_port=skill_port,
                          control_port=control_port, metrics_port=metrics_port, upstreams=upstreams, mode=mode,
                          engine_port=engine_port, engine_url=engine_url, engine_db=engine_db, stdio=stdio,
                          allowed_hosts=allowed_hosts, cors_origins=cors_origins,
                          timeout=timeout, connect_timeout=connect_timeout, max_body=max_body,
                          max_concurrency=max_concurrency, http_client=http_client, max_header_size=max_header_size,
                          header_timeout=header_timeout, body_timeout=body_timeout,
                          keepalive_timeout=keepalive_timeout, max_connections=max_connections,
                          shutdown_grace=shutdown_grace, watch=watch, watch_interval=watch_interval,
                          strict=strict)
    options = dataclasses.replace(options, workers=workers,
                                  connections=dataclasses.replace(options.connections, reuse_port=reuse_port))
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:  # type: ignore[arg-type]
            if workers > 1:
                from ..runtime.workers import check_workers, supervise

                check_workers(options)
                sys.exit(runner.run(supervise(options, sys.argv[1:])))
            runner.run(run_forever(options))
    except StartupError as exc:
        if log_format == "json":  # a log collector reads the refusal like every other line
            logs.LOGGER.error("startup refused", extra={"error": str(exc)})
        else:
            click.echo(f"naftiko run: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


def _loop_factory() -> object:
    """`naftiko run`'s event loop: uvloop only when asked for (NAFTIKO_UVLOOP=1) and installed.

    The benchmark showed no gain from it on this workload (aiohttp and uvicorn spend their time
    above the loop), so it is not a dependency; the switch stays so that it can be measured again."""
    import os

    from ..logs import LOGGER

    if os.environ.get("NAFTIKO_UVLOOP") != "1":
        return None
    try:
        import uvloop
    except ImportError:
        LOGGER.warning("NAFTIKO_UVLOOP=1 but uvloop is not installed (pip install uvloop): using the asyncio loop")
        return None
    LOGGER.info("event loop: uvloop")
    return uvloop.new_event_loop



for _param in run.params:  # list each option's variable in `naftiko run --help`
    if isinstance(_param, click.Option) and _param.envvar:
        _param.show_envvar = True
