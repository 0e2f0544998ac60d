"""The `naftiko` command line: validate, inspect, call, run, export, engine."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from . import __version__
from .capability.loader import LoadResult, load


class _Group(click.Group):
    """Click group whose usage errors exit 2 and whose unexpected errors print one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            raise SystemExit(130) from None

    # `engine` is imported on first use: importing the local engine costs every other command
    # (`naftiko run` included) about a quarter of its start-up.
    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "engine":
            _add_engine()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        _add_engine()
        return super().list_commands(ctx)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="naftiko")
def main() -> None:
    """Run Naftiko capability files: REST and MCP servers over the APIs they consume."""
    from .capability.schema import schema_backend

    try:
        schema_backend()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _print_text(results: list[LoadResult]) -> None:
    for result in results:
        for d in result.diagnostics:
            click.echo(str(d))
        errors, warnings = len(result.errors), len(result.warnings)
        verdict = "valid" if not errors else "invalid"
        click.echo(f"{result.file}: {verdict} ({errors} error(s), {warnings} warning(s))", err=True)


def _validate_one(file: Path, *, strict: bool) -> LoadResult:
    """One file's diagnostics, unresolved binds included (the model stays behind: a worker returns only these)."""
    from .binding.binds import resolve_capability_binds, unresolved_diagnostics

    result = load(file, strict=strict)
    if result.capability is not None:
        result.diagnostics.extend(unresolved_diagnostics(result.capability, resolve_capability_binds(result.capability)))
    return LoadResult(result.file, None, result.diagnostics)


#: Files per extra worker below which a process pool costs more than it saves (a fork, ~7 ms a file).
_FILES_PER_WORKER = 16


def _validate_workers(files: int) -> int:
    """Processes for `validate`: one per core that is free (this process's cores minus the load), if worth it."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores < 2 or files < 2 * _FILES_PER_WORKER:
        return 1
    free = cores - int(os.getloadavg()[0]) if hasattr(os, "getloadavg") else cores
    return max(1, min(cores, free, files // _FILES_PER_WORKER))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Report every schema violation as an error, tolerated deviations included.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True,
              help="Processes to validate many files with; 0: one per free core (1 for a few files).")
def validate(files: tuple[Path, ...], strict: bool, fmt: str, quiet: bool, jobs: int) -> None:
    """Check capability FILES and report errors and warnings as file:line:col.

    Exit status: 0 when every file is valid (warnings allowed), 1 otherwise, 2 on usage errors.
    """
    workers = min(jobs, len(files)) if jobs else _validate_workers(len(files))
    if workers > 1:
        import concurrent.futures
        import multiprocessing

        from .capability.schema import prepare

        prepare()  # compile the schema once, before the workers fork

        # fork: the workers inherit the modules already imported (a spawned worker pays the start-up again)
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            chunk = max(1, len(files) // (workers * 8))
            results = list(pool.map(functools.partial(_validate_one, strict=strict), files, chunksize=chunk))
    else:
        results = [_validate_one(f, strict=strict) for f in files]
    if quiet:
        for r in results:
            r.diagnostics = r.errors
    if fmt == "json":
        payload = [
            {"file": r.file, "valid": not r.errors, "diagnostics": [d.as_json() for d in r.diagnostics]}
            for r in results
        ]
        click.echo(json.dumps(payload, indent=2))
    else:
        _print_text(results)
    sys.exit(0 if all(not r.errors for r in results) else 1)


def _parse_upstreams(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        namespace, sep, url = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"expected NAMESPACE=URL (or *=URL) with an http(s) URL, got '{item}'", param_hint="--upstream")
        out[namespace] = url
    return out


def _split_env_list(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeatable options also come from one variable, space- or comma-separated."""
    return tuple(part for value in values for part in value.replace(",", " ").split() if part)


def _capability_files(paths: tuple[Path, ...]) -> list[Path]:
    """FILES as given; a directory stands for its *.yaml and *.yml files (e.g. the container's /capabilities)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                raise click.BadParameter(f"no .yaml or .yml capability file in directory '{path}'", param_hint="FILES")
            files += found
        else:
            files.append(path)
    return files


def _size(_: click.Context, __: click.Parameter, value: str | int | None) -> int | None:
    from .limits import parse_size

    if value is None or isinstance(value, int):
        return value
    try:
        return parse_size(value)
    except ValueError:
        raise click.BadParameter(f"expected a size such as 1048576, 512k or 10M, got '{value}'") from None


STRICT_HELP = "Refuse a file with any error `naftiko validate` reports, instead of serving all but its broken parts."


def run_options(*, files: tuple[Path, ...], host: str | None, rest_port: int | None, mcp_port: int | None,
                skill_port: int | None, control_port: int | None, metrics_port: int | None, upstreams: tuple[str, ...],
                mode: str | None, engine_port: int | None, engine_db: str | None, stdio: bool, allowed_hosts: tuple[str, ...],
                cors_origins: tuple[str, ...] = (), timeout: float, connect_timeout: float, max_body: int,
                max_concurrency: int, max_header_size: int,
                header_timeout: float, body_timeout: float, keepalive_timeout: float, max_connections: int,
                shutdown_grace: float, watch: bool, watch_interval: float, engine_url: str | None = None,
                strict: bool = False, **_: object):  # type: ignore[no-untyped-def]
    """`naftiko run`'s parameters as the runtime's options (tests build in-process runtimes with it too)."""
    from .limits import ConnectionLimits
    from .runtime import RunOptions

    if max_header_size < 1024:
        raise click.BadParameter(f"at least 1k, got {max_header_size} bytes", param_hint="--max-header-size")
    return RunOptions(
        files=_capability_files(files), host=host, rest_port=rest_port, mcp_port=mcp_port, skill_port=skill_port,
        control_port=control_port, upstreams=_parse_upstreams(_split_env_list(upstreams)),
        mode=mode or "auto", engine_port=engine_port, engine_url=engine_url, engine_db=engine_db, stdio=stdio,
        allowed_hosts=list(_split_env_list(allowed_hosts)), cors_origins=list(_split_env_list(cors_origins)),
        total_timeout=timeout, connect_timeout=connect_timeout,
        max_body=max_body, max_concurrency=max_concurrency, shutdown_grace=shutdown_grace,
        metrics_port=metrics_port, watch=watch, watch_interval=watch_interval, strict=strict,
        connections=ConnectionLimits(
            max_header_size=max_header_size, header_timeout=header_timeout, body_timeout=body_timeout,
            keepalive_timeout=keepalive_timeout, max_connections=max_connections,
        ),
    )


# Every option of `run` can be set from the environment as NAFTIKO_<OPTION> (README: "Operating it").
# Precedence: the flag, then the environment variable, then the capability file, then the default.
@main.command()
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
        connect_timeout: float, max_body: int, max_concurrency: int, max_header_size: int, header_timeout: float,
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

    from . import logs
    from .runtime import StartupError, run_forever

    logs.configure(log_format, log_level)
    options = run_options(files=files, host=host, rest_port=rest_port, mcp_port=mcp_port, skill_port=skill_port,
                          control_port=control_port, metrics_port=metrics_port, upstreams=upstreams, mode=mode,
                          engine_port=engine_port, engine_url=engine_url, engine_db=engine_db, stdio=stdio,
                          allowed_hosts=allowed_hosts, cors_origins=cors_origins,
                          timeout=timeout, connect_timeout=connect_timeout, max_body=max_body,
                          max_concurrency=max_concurrency, max_header_size=max_header_size,
                          header_timeout=header_timeout, body_timeout=body_timeout,
                          keepalive_timeout=keepalive_timeout, max_connections=max_connections,
                          shutdown_grace=shutdown_grace, watch=watch, watch_interval=watch_interval,
                          strict=strict)
    options = dataclasses.replace(options, workers=workers,
                                  connections=dataclasses.replace(options.connections, reuse_port=reuse_port))
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:  # type: ignore[arg-type]
            if workers > 1:
                from .runtime.workers import check_workers, supervise

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


def _find_action(capability, name: str):  # type: ignore[no-untyped-def]
    """An MCP tool by name, a REST operation by name or by `METHOD /path`."""
    from .capability.model import McpAdapter, RestAdapter

    found = []
    for adapter in capability.adapters:
        if isinstance(adapter, McpAdapter):
            found += [t for t in adapter.tools if t.name == name]
        elif isinstance(adapter, RestAdapter):
            for res in adapter.resources:
                for op in res.operations:
                    if op.action.name == name or f"{op.method} {res.path.raw}" == name:
                        found.append(op.action)
    return found


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("name")
@click.option("--arg", "args", multiple=True, metavar="KEY=VALUE", help="An input value (JSON values such as 3, true or [1] are parsed).")
@click.option("--body", "body", metavar="JSON|@FILE", help="A JSON body, inline or @file.json.")
@click.option("--upstream", "upstreams", multiple=True, metavar="NAMESPACE=URL", help="Send a consumes namespace (or *) to URL.")
@click.option("--local", "mode", flag_value="local", help="Send Humanitec and Inngest namespaces to the bundled local engine.")
@click.option("--live", "mode", flag_value="live", help="Never use the local engine; missing credentials are an error.")
@click.option("--mode", "mode", type=click.Choice(["auto", "local", "live"]), default="auto", show_default=True,
              help="Engine mode, as for `naftiko run`.")
@click.option("--engine-db", help="SQLite file of the local engine (default: the one `naftiko run` uses; ':memory:' for throwaway).")
@click.option("--timeout", type=click.FloatRange(0.1), default=30.0, show_default=True)
@click.option("--strict", is_flag=True, help=STRICT_HELP)
def call(file: Path, name: str, args: tuple[str, ...], body: str | None, upstreams: tuple[str, ...], mode: str | None,
         engine_db: str | None, timeout: float, strict: bool) -> None:
    """Invoke one exposed operation or tool NAME of FILE once, without a server, and print the result.

    Namespaces go where `naftiko run` would send them: --upstream, else the bundled local engine
    (started for the call) for Humanitec and Inngest APIs without credentials, else their baseUri.
    Exit status 1 when the upstream answers an error or cannot be reached.
    """
    import asyncio

    from .binding.incoming import Incoming
    from .errors import NaftikoError
    from .invoke.output import NOTHING
    from .logs import SECRETS

    result = load(file)
    refused = result.refused(strict=strict)
    if refused or result.capability is None:
        for d in refused:
            click.echo(str(d), err=True)
        sys.exit(1)
    cap = result.capability
    actions = _find_action(cap, name)
    if not actions:
        raise click.BadParameter(f"no operation or tool named '{name}' in {file}", param_hint="NAME")
    values: dict[str, object] = {}
    for item in args:
        key, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got '{item}'", param_hint="--arg")
        try:
            values[key] = json.loads(raw)
        except ValueError:
            values[key] = raw
    parsed_body = None
    if body is not None:
        text = Path(body[1:]).read_text() if body.startswith("@") else body
        try:
            parsed_body = json.loads(text)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--body") from None
        values["body"] = parsed_body

    def say(text: str, err: bool = False) -> None:
        click.echo(SECRETS.redact(text), err=err)  # the servers' one redaction rule, for every line printed

    async def go() -> int:
        from .runtime import RunOptions, StartupError
        from .runtime.call import planned_invoker

        options = RunOptions(files=[file], upstreams=_parse_upstreams(upstreams), mode=mode or "auto", engine_port=0,
                             engine_db=engine_db, total_timeout=timeout, strict=strict)
        try:
            async with planned_invoker(file, options) as (entry, invoker):
                action = _find_action(entry.capability, name)[0]
                outcome = await invoker.invoke(action, Incoming(values=values, body=parsed_body, origin="cli"))
        except StartupError as exc:
            say(f"naftiko call: {exc}", err=True)
            return 1
        except NaftikoError as exc:
            say(json.dumps(exc.as_json(), indent=2), err=True)
            return 1
        if outcome.is_redirect:
            say(f"upstream answered {outcome.status}, a redirect to {outcome.headers.get('Location', '?')}; "
                "redirects are not followed", err=True)
            return 1
        if outcome.data is NOTHING:
            say((outcome.raw or b"").decode("utf-8", "replace"))
        else:
            say(json.dumps(outcome.data, indent=2))
        if outcome.is_error:
            say(f"upstream answered {outcome.status}: {outcome.message}", err=True)
            return 1
        return 0

    sys.exit(asyncio.run(go()))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help=STRICT_HELP)
def inspect(files: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Show what FILES would serve: routes and the upstream calls behind them, tools, binds, disabled parts.

    Warnings (such as ambiguous operation names) are printed first; secrets are never shown.
    """
    from .binding.binds import resolve_capability_binds
    from .inspection import describe, render_json, render_text
    from .runtime.plan import decide_modes

    descs, failed = [], False
    for file in files:
        result = load(file)
        for d in result.diagnostics:
            if d.severity == "error" or d.code in ("ambiguous-operation", "unfilled-placeholder"):
                click.echo(str(d), err=True)
        if result.refused(strict=strict) or result.capability is None:
            failed = True
            continue
        binds = resolve_capability_binds(result.capability)
        modes = decide_modes(result.capability, binds, {}, "auto")
        descs.append(describe(result.capability, binds, [m.as_json() for m in modes]))
    if fmt == "json":
        click.echo(render_json(descs))
    else:
        click.echo("\n\n".join(render_text(d) for d in descs))
    sys.exit(1 if failed else 0)


def _loop_factory() -> object:
    """`naftiko run`'s event loop: uvloop only when asked for (NAFTIKO_UVLOOP=1) and installed.

    The benchmark showed no gain from it on this workload (aiohttp and uvicorn spend their time
    above the loop), so it is not a dependency; the switch stays so that it can be measured again."""
    import os

    from .logs import LOGGER

    if os.environ.get("NAFTIKO_UVLOOP") != "1":
        return None
    try:
        import uvloop  # type: ignore[import-not-found]
    except ImportError:
        LOGGER.warning("NAFTIKO_UVLOOP=1 but uvloop is not installed (pip install uvloop): using the asyncio loop")
        return None
    LOGGER.info("event loop: uvloop")
    return uvloop.new_event_loop


def _add_engine() -> None:
    if "engine" in main.commands:
        return
    from .engine.cli import engine

    main.add_command(engine)


@main.group()
def export() -> None:
    """Export a capability's exposed surface in another format."""


@export.command("openapi")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write here instead of stdout (.json for JSON).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), help="Default: from the output suffix, else yaml.")
def export_openapi(file: Path, output: Path | None, fmt: str | None) -> None:
    """An OpenAPI 3.1 document of the REST adapters of FILE."""
    from .exposes.rest.openapi import build_openapi

    result = load(file)
    if not result.ok or result.capability is None:
        for d in result.errors:
            click.echo(str(d), err=True)
        sys.exit(1)
    document = build_openapi(result.capability)
    fmt = fmt or ("json" if output is not None and output.suffix == ".json" else "yaml")
    if fmt == "json":
        text = json.dumps(document, indent=2) + "\n"
    else:
        import io

        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.width = 4096
        yaml.sort_base_mapping_type_on_output = False  # type: ignore[attr-defined]
        buffer = io.StringIO()
        yaml.dump(document, buffer)
        text = buffer.getvalue()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)


for _param in run.params:  # list each option's variable in `naftiko run --help`
    if isinstance(_param, click.Option) and _param.envvar:
        _param.show_envvar = True
