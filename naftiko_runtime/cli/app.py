"""The `naftiko` group: exit codes, one-line errors, the lazily added `engine` command."""

from __future__ import annotations

import click

from ..version import __version__


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
    from ..capability.schema import schema_backend

    try:
        schema_backend()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

def _add_engine() -> None:
    if "engine" in main.commands:
        return
    from ..engine.cli import engine

    main.add_command(engine)

