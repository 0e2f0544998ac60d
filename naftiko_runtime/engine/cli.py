"""``naftiko engine serve``: run the local pipeline engine on its own until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys

import click

from . import default_db_path, start_engine


@click.group("engine")
def engine() -> None:
    """The bundled local pipeline engine (Humanitec, Inngest and two pipeline APIs, offline)."""


@engine.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8700, show_default=True, type=int, help="Port to listen on (0: any free port).")
@click.option("--db", "db", default=None, metavar="PATH",
              help="SQLite file ('-'/':memory:' for throwaway). Default: $NAFTIKO_DATA_DIR/engine.db, "
                   "NAFTIKO_DATA_DIR defaulting to ~/.local/share/naftiko.")
@click.option("--pipelines", "pipelines", default=None, metavar="DIR",
              type=click.Path(exists=True, file_okay=False),
              help="Folder of <org>/<app>/<pipeline>.yaml files loaded at start. Default: the bundled fixtures.")
@click.option("--allow-api-scripts", is_flag=True, help="Let pipelines created through the API run 'script' steps.")
@click.option("--strict-auth", metavar="TOKEN", default=None,
              help="Require TOKEN on every API ('Authorization: Bearer TOKEN', or seed 002's 'X-Auth-Token'). "
                   "Default: no check at all, a missing header included.")
@click.option("--webhook-attempts", default=5, show_default=True, type=click.IntRange(1, 100),
              help="Attempts per webhook delivery before it is marked failed.")
@click.option("--webhook-backoff", default=0.5, show_default=True, type=click.FloatRange(0),
              help="Seconds before the first webhook retry; doubles per attempt, capped at 30 s.")
def serve(host: str, port: int, db: str | None, pipelines: str | None, allow_api_scripts: bool,
          strict_auth: str | None, webhook_attempts: int, webhook_backoff: float) -> None:
    """Serve the engine until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db_path = default_db_path() if db is None else (":memory:" if db in ("-", ":memory:") else db)
    try:
        asyncio.run(_serve(host, port, db_path, pipelines, allow_api_scripts, strict_auth, webhook_attempts,
                           webhook_backoff))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE or "address already in use" in str(exc).lower():
            click.echo(f"error: cannot listen on {host}:{port}: the port is already in use", err=True)
        else:
            click.echo(f"error: cannot start the engine on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(1)


async def _serve(host: str, port: int, db: str, pipelines: str | None, allow_api_scripts: bool,
                 strict_auth: str | None, webhook_attempts: int = 5, webhook_backoff: float = 0.5) -> None:
    handle = await start_engine(host=host, port=port, db=db, pipelines_dir=pipelines,
                                allow_api_scripts=allow_api_scripts, strict_auth=strict_auth,
                                webhook_attempts=webhook_attempts, webhook_backoff=webhook_backoff)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    click.echo(f"naftiko engine listening on {handle.url} (db: {db})", err=True)
    try:
        await stop.wait()
    finally:
        click.echo("naftiko engine stopping", err=True)
        await handle.close()


main = engine

if __name__ == "__main__":  # pragma: no cover
    engine()
