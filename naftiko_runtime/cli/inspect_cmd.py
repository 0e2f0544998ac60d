"""`naftiko inspect` and `naftiko call`: what a file serves, and one call without a server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..capability.loader import load
from ..capability.resolution import GUESSED_CALLS

if TYPE_CHECKING:
    from ..capability.model import Action, Capability
from .options import STRICT_HELP, _parse_upstreams


def _find_action(capability: Capability, name: str) -> list[Action]:
    """An MCP tool by name, a REST operation by name or by `METHOD /path`."""
    from ..capability.model import McpAdapter, RestAdapter

    found: list[Action] = []
    for adapter in capability.adapters:
        if isinstance(adapter, McpAdapter):
            found += [t for t in adapter.tools if t.name == name]
        elif isinstance(adapter, RestAdapter):
            for res in adapter.resources:
                for op in res.operations:
                    if op.action.name == name or f"{op.method} {res.path.raw}" == name:
                        found.append(op.action)
    return found


@click.command()
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

    from ..binding.incoming import Incoming
    from ..errors import NaftikoError
    from ..invoke.output import NOTHING
    from ..logs import SECRETS

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
        from ..runtime import RunOptions, StartupError
        from ..runtime.call import planned_invoker

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


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help=STRICT_HELP)
def inspect(files: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Show what FILES would serve: routes and the upstream calls behind them, tools, binds, disabled parts.

    Warnings (such as ambiguous operation names) are printed first; secrets are never shown.
    """
    from ..binding.binds import resolve_capability_binds
    from ..inspection import describe, render_json, render_text
    from ..runtime.plan import decide_modes

    descs, failed = [], False
    for file in files:
        result = load(file)
        for d in result.diagnostics:
            if d.severity == "error" or d.code in ("ambiguous-operation", "unfilled-placeholder", *GUESSED_CALLS):
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
