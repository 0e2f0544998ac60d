"""What the invoker needs of the wire: the default upstream stack and the header rules.

`UpstreamPool(settings)` is the stack every caller gets without extra layers: retries over
one pooled session per namespace (aiohttp's, or pyreqwest's: `settings.client`). `naftiko run` composes more layers around the
same parts (see `naftiko_runtime.stack`).
"""

from __future__ import annotations

from .transport import (
    RetryTransport,
    UpstreamResponse,
    UpstreamSettings,
)
from .wire import open_wire

__all__ = ["FORWARDED_HEADERS", "UpstreamPool", "UpstreamResponse", "UpstreamSettings", "is_redirect"]

# Caller headers passed to the upstream by default: they make a retried write safe.
FORWARDED_HEADERS = ("Idempotency-Key", "If-Match")


def is_redirect(status: int) -> bool:
    """A 3xx that points elsewhere (304 Not Modified is an answer, not a redirect)."""
    return 300 <= status < 400 and status != 304


class UpstreamPool(RetryTransport):
    """Retries (per `settings`) over pooled sessions of the chosen client: the plain upstream stack."""

    def __init__(self, settings: UpstreamSettings | None = None) -> None:
        self.settings = settings or UpstreamSettings()
        self.wire = open_wire(self.settings)
        super().__init__(self.wire, self.settings.retries, self.settings.backoff)
