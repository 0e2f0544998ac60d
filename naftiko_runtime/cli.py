"""The `naftiko` command line: validate, inspect, call, run, export, engine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .spec.loader import LoadResult, load


class _Group(click.Group):
    """Click group whose usage errors exit 2 and whose unexpected errors print one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            raise SystemExit(130) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="naftiko")
def main() -> None:
    """Run Naftiko capability files: REST and MCP servers over the APIs they consume."""


def _print_text(results: list[LoadResult]) -> None:
    for result in results:
        for d in result.diagnostics:
            click.echo(str(d))
        errors, warnings = len(result.errors), len(result.warnings)
        verdict = "valid" if not errors else "invalid"
        click.echo(f"{result.file}: {verdict} ({errors} error(s), {warnings} warning(s))", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Report every schema violation as an error, tolerated deviations included.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
def validate(files: tuple[Path, ...], strict: bool, fmt: str, quiet: bool) -> None:
    """Check capability FILES and report errors and warnings as file:line:col.

    Exit status: 0 when every file is valid (warnings allowed), 1 otherwise, 2 on usage errors.
    """
    results = [load(f, strict=strict) for f in files]
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


def run() -> None:  # pragma: no cover - console entry for `python -m naftiko_runtime`
    main(prog_name="naftiko")
