"""MCP's own hint names (`readOnlyHint`, …) in a tool's `hints`, read as the alpha2 names.

Files written against the MCP specification use its annotation names; each has exactly one
alpha2 counterpart, so it is read as that (with a warning; see compat `hint-mcp-names`).
The alpha2 name wins when a file gives both.
"""

from __future__ import annotations

from typing import Any

ALIASES = {"readOnlyHint": "readOnly", "destructiveHint": "destructive", "idempotentHint": "idempotent", "openWorldHint": "openWorld"}


def canonical_hints(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` with every MCP-style name under its alpha2 name (never replacing an alpha2 name given too)."""
    out = {k: v for k, v in raw.items() if k not in ALIASES}
    for alias, name in ALIASES.items():
        if alias in raw and name not in out:
            out[name] = raw[alias]
    return out
