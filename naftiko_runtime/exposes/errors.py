"""The one JSON error body of the aiohttp surfaces (REST, skill and control adapters).

`{"error": code, "message": words, ...}`: `failure_response` answers any `NaftikoError`
(status, body with the message redacted, its headers such as `Retry-After`). The MCP tool
result has its own builder (`exposes/mcp/server.failure_result`), as that protocol has no status.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..errors import NaftikoError
from ..logs import SECRETS

JSON = "application/json"


def error_response(status: int, error: str, message: str, **extra: Any) -> web.Response:
    body = {"error": error, "message": message, **{k: v for k, v in extra.items() if v is not None}}
    return web.Response(status=status, text=json.dumps(body), content_type=JSON)


def failure_response(exc: NaftikoError) -> web.Response:
    """The answer to any failed call: its status, JSON body (message redacted) and headers."""
    response = error_response(exc.status, exc.error, SECRETS.redact(exc.message), upstream=exc.upstream, parameter=exc.parameter)
    response.headers.update(exc.headers)
    return response


def unauthorized(challenge: str) -> web.Response:
    """401 with the scheme's `WWW-Authenticate` challenge."""
    response = error_response(401, "unauthorized", "missing or invalid credentials")
    response.headers["WWW-Authenticate"] = challenge
    return response
