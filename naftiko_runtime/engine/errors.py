"""Errors the engine raises, each carrying the HTTP status and Humanitec error code it maps to.

The service layer raises these; the HTTP layer turns them into
``{"error": "API-…", "message": …}`` bodies, so one rule decides every code.
"""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base class: an operation refused for a reason the client should see."""

    status: int = 400
    code: str = "API-000"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class BadRequest(EngineError):
    """Invalid ids, inputs of the wrong type, malformed definitions (400)."""

    status = 400
    code = "API-400"


class Unauthorized(EngineError):
    """Strict-auth mode and a missing or wrong bearer token (401)."""

    status = 401
    code = "API-401"


class NotFound(EngineError):
    """The resource, or a related one, does not exist (404)."""

    status = 404
    code = "API-404"


class Conflict(EngineError):
    """Duplicate id or an operation the current state does not allow (409)."""

    status = 409
    code = "API-409"


class PreconditionFailed(EngineError):
    """``If-Match`` did not match the object's current ETag (412)."""

    status = 412
    code = "API-412"


class Unprocessable(EngineError):
    """Body is not valid JSON/YAML, is empty, or is the wrong kind of object (422)."""

    status = 422
    code = "API-422"


class IllegalTransition(Conflict):
    """A state change the run/job/step state machine forbids."""

    def __init__(self, kind: str, ident: str, current: str, target: str) -> None:
        super().__init__(
            f"{kind} {ident!r} cannot go from {current!r} to {target!r}",
            details={"from": current, "to": target},
        )
        self.current = current
        self.target = target


class StepFailed(Exception):
    """Raised by an action to fail its step with a message (not an HTTP error)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
