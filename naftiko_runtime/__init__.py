"""Naftiko capability runtime: the public API a library user imports.

Names are imported on first use (PEP 562), so that `naftiko validate` does not pay for the
servers it never starts. Everything else in the package is internal and may change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .binding.incoming import Incoming
    from .capability.diagnostics import Diagnostic
    from .capability.loader import LoadResult, load
    from .capability.model import Capability
    from .errors import InputError, InvokeError, NaftikoError, Overloaded, UpstreamError
    from .invoke.invoker import Invoker, Outcome
    from .runtime import RunOptions, Runtime, StartupError, run_forever

#: public name -> the module that defines it
_HOMES = {
    "load": "capability.loader", "LoadResult": "capability.loader", "Diagnostic": "capability.diagnostics",
    "Capability": "capability.model",
    "Incoming": "binding.incoming", "Invoker": "invoke.invoker", "Outcome": "invoke.invoker",
    "RunOptions": "runtime", "Runtime": "runtime", "StartupError": "runtime", "run_forever": "runtime",
    "NaftikoError": "errors", "InputError": "errors", "InvokeError": "errors", "UpstreamError": "errors",
    "Overloaded": "errors",
}

__all__ = ["Capability", "Diagnostic", "Incoming", "InputError", "InvokeError", "Invoker", "LoadResult", "NaftikoError",
           "Outcome", "Overloaded", "RunOptions", "Runtime", "StartupError", "UpstreamError", "__version__", "load",
           "run_forever"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'naftiko_runtime' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
