"""The one error hierarchy of a call: every failure carries what an adapter answers with.

`status` is the HTTP status REST answers, `error` a stable code, `message` the words,
`headers` what goes with the answer (`Retry-After`), `upstream` the consumed operation
involved and `parameter` the input at fault. Each adapter turns a `NaftikoError` into its
protocol's error once (`exposes/rest/errors.py`, `exposes/mcp/errors.py`); nothing in
between converts one error into another.

This module imports nothing of the runtime, so every layer may raise these.
"""

from __future__ import annotations

from typing import Any


class NaftikoError(Exception):
    """A call that cannot complete, with everything an adapter needs to answer it."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        upstream: str | None = None,
        *,
        parameter: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.upstream = upstream
        self.parameter = parameter
        self.headers = headers or {}

    @property
    def retry_after(self) -> int | None:
        """Seconds before a retry may succeed (the `Retry-After` header), for protocols without headers."""
        value = self.headers.get("Retry-After")
        return int(value) if value is not None and value.isdigit() else None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.upstream:
            body["upstream"] = self.upstream
        if self.parameter:
            body["parameter"] = self.parameter
        return body


class InputError(NaftikoError):
    """A caller's input cannot be used: 400 (REST) or an error result (MCP)."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(400, "invalid_input", message, parameter=parameter)


class InvokeError(NaftikoError):
    """The runtime cannot complete the call (a broken operation, a failed script, ...)."""


class UpstreamError(InvokeError):
    """The upstream failed, hung or answered something unusable (502/504)."""

    def __init__(self, status: int, error: str, message: str, upstream: str | None = None, *, retryable: bool = False,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, error, message, upstream, headers=headers)
        self.retryable = retryable
        self.attempts = 1


RETRY_AFTER_SECONDS = 1


class Overloaded(UpstreamError):
    """Too many calls already in flight to this namespace: 503 with Retry-After."""

    def __init__(self, namespace: str, limit: int, upstream: str | None) -> None:
        super().__init__(
            503, "upstream_busy",
            f"{limit} call(s) to '{namespace}' are already in flight (the limit, --max-concurrency); retry later",
            upstream, headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
