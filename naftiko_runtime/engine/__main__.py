"""``python -m naftiko_runtime.engine serve …`` (same as ``naftiko engine serve``)."""

from .cli import engine

engine(prog_name="python -m naftiko_runtime.engine")
