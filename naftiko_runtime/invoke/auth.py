"""Credentials to an upstream, from the consumes `authentication` block and binds."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp

from ..binding.binds import BindValues
from ..capability.model import Auth, Capability
from ..logs import SECRETS
from .request import UpstreamRequest


def _render(template: Any, binds: Mapping[str, Any]) -> str:
    return template.render(binds) if template is not None else ""


def apply_auth(auth: Auth | None, req: UpstreamRequest, binds: Mapping[str, Any]) -> list[Any]:
    """Set headers or query on `req`; return the aiohttp client middlewares a scheme needs (digest).

    Templates render against binds only: a caller's values can never become credentials.
    """
    if auth is None:
        return []
    if auth.type == "bearer":
        req.headers["Authorization"] = f"Bearer {_render(auth.token, binds)}"
    elif auth.type == "basic":
        pair = f"{_render(auth.username, binds)}:{_render(auth.password, binds)}"
        req.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    elif auth.type == "apikey":
        if auth.headers or auth.query:
            for name, template in auth.headers.items():
                req.headers[name] = _render(template, binds)
            if auth.query:
                pairs = [(name, _render(template, binds)) for name, template in auth.query.items()]
                req.url += ("&" if "?" in req.url else "?") + urlencode(pairs)
            return []
        key, value = auth.key or "X-API-Key", _render(auth.value, binds)
        if auth.placement == "query":
            req.url += ("&" if "?" in req.url else "?") + urlencode([(key, value)])
        else:
            req.headers[key] = value
    elif auth.type == "digest":
        return [aiohttp.DigestAuthMiddleware(_render(auth.username, binds), _render(auth.password, binds), preemptive=False)]
    return []


def register_secrets(capability: Capability, binds: BindValues) -> None:
    """Register every bound value, and each Basic credential in the base64 form it travels in,
    so that whatever echoes them (an upstream, an error, the CLI) is redacted."""
    SECRETS.add(binds.secrets)
    ctx = binds.context()
    for api in capability.consumes:
        auth = api.auth
        if auth is not None and auth.type in ("basic", "digest"):
            SECRETS.add_basic(_render(auth.username, ctx), _render(auth.password, ctx))
