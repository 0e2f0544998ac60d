"""Serving capability files: the plan (what to serve, and where each namespace goes), the
invokers built from it, one server per adapter kind, hot reload, and the composition of them all."""

from .options import RunOptions, StartupError
from .plan import NamespaceMode, Plan, PlanEntry
from .run import Runtime, run_forever

__all__ = ["NamespaceMode", "Plan", "PlanEntry", "RunOptions", "Runtime", "StartupError", "run_forever"]
