"""The `naftiko` command line: validate, inspect, call, run, export, engine (one module per command group)."""

from . import export_cmd, inspect_cmd, validate_cmd
from .app import main
from .run_cmd import run, run_options

__all__ = ["export_cmd", "inspect_cmd", "main", "run", "run_options", "validate_cmd"]
