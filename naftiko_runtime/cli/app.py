"""The `naftiko` group: exit codes, one-line errors, commands loaded on use."""

from __future__ import annotations

import importlib

import click

from ..version import __version__

# Each command's module, imported when that command is used (Click's lazy-loading group pattern):
# `naftiko run` then loads neither the other commands nor what only they need (the local engine's CLI,
# `export`'s OpenAPI writer, `validate`'s pool), and `naftiko --help` loads none of them.
LAZY_COMMANDS = {
    "call": "naftiko_runtime.cli.inspect_cmd:call",
    "engine": "naftiko_runtime.engine.cli:engine",
    "export": "naftiko_runtime.cli.export_cmd:export",
    "inspect": "naftiko_runtime.cli.inspect_cmd:inspect",
    "run": "naftiko_runtime.cli.run_cmd:run",
    "validate": "naftiko_runtime.cli.validate_cmd:validate",
}


class _Group(click.Group):
    """Click group whose usage errors exit 2 and whose unexpected errors print one line, not a traceback;
    its commands load on use (`LAZY_COMMANDS`)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            raise SystemExit(130) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, _, name = LAZY_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), name)
            assert isinstance(command, click.Command), LAZY_COMMANDS[cmd_name]
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="naftiko")
def main() -> None:
    """Run Naftiko capability files: REST and MCP servers over the APIs they consume."""
    from ..capability.schema import schema_backend

    try:
        schema_backend()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
