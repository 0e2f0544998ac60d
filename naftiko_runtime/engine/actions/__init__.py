"""Built-in step actions, looked up by the normalised ``uses`` name."""

from __future__ import annotations

from .base import ACTIONS, Action, ActionContext, action
from . import approve, basic, environment, http, script, simulated  # noqa: F401  (registers the actions)

__all__ = ["ACTIONS", "Action", "ActionContext", "action"]
