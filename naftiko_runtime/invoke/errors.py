"""Errors of one invocation (defined with the rest of the hierarchy in `naftiko_runtime.errors`)."""

from __future__ import annotations

from ..errors import InvokeError, NaftikoError, Overloaded, UpstreamError

__all__ = ["InvokeError", "NaftikoError", "Overloaded", "UpstreamError"]
