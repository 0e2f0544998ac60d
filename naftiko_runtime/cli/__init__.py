"""The `naftiko` command line: validate, inspect, call, run, export, engine (one module per command group,
each imported when its command is used: `app.LAZY_COMMANDS`)."""

from .app import main
from .run_cmd import run, run_options

__all__ = ["main", "run", "run_options"]
