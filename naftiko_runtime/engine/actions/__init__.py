"""Built-in step actions, looked up by the normalised ``uses`` name."""

from __future__ import annotations

from . import approve, basic, environment, http, script, simulated  # noqa: F401  (registers the actions)
from .base import ACTIONS, Action, ActionContext, action

__all__ = ["ACTIONS", "Action", "ActionContext", "action"]
