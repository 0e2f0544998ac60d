"""Errors of one invocation, each with the HTTP status an adapter answers with."""

from __future__ import annotations

from typing import Any


class InvokeError(Exception):
    """A call that cannot complete: `status` is what REST answers, `error` a stable code."""

    def __init__(self, status: int, error: str, message: str, upstream: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.upstream = upstream

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.upstream:
            body["upstream"] = self.upstream
        return body


class UpstreamError(InvokeError):
    """The upstream failed, hung or answered something unusable (502/504)."""

    def __init__(self, status: int, error: str, message: str, upstream: str | None = None, *, retryable: bool = False) -> None:
        super().__init__(status, error, message, upstream)
        self.retryable = retryable
        self.attempts = 1
