"""Authentication an adapter requires from its callers (bearer, apikey, basic)."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..capability.model import Auth


@dataclass
class Credentials:
    """An exposed auth block with its secrets rendered from binds, ready to compare."""

    type: str
    expected: str
    key: str = ""
    placement: str = "header"

    @classmethod
    def from_spec(cls, auth: Auth | None, binds: Mapping[str, Any]) -> Credentials | None:
        if auth is None:
            return None
        render = lambda t: t.render(binds) if t is not None else ""  # noqa: E731
        if auth.type == "bearer":
            return cls("bearer", render(auth.token))
        if auth.type == "apikey":
            return cls("apikey", render(auth.value), auth.key or "X-API-Key", auth.placement)
        if auth.type == "basic":
            return cls("basic", f"{render(auth.username)}:{render(auth.password)}")
        return None  # oauth2 needs a token service; not enforced locally

    @property
    def challenge(self) -> str:
        if self.type == "basic":
            return 'Basic realm="naftiko"'
        if self.type == "apikey":
            return f'ApiKey realm="naftiko", key="{self.key}"'
        return 'Bearer realm="naftiko"'

    def check(self, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
        if not self.expected or self.expected in (":",):
            return False
        if self.type == "apikey":
            given = query.get(self.key) if self.placement == "query" else headers.get(self.key)
            return given is not None and hmac.compare_digest(given.encode(), self.expected.encode())
        header = headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if self.type == "bearer" and scheme.lower() == "bearer":
            return hmac.compare_digest(value.strip().encode(), self.expected.encode())
        if self.type == "basic" and scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except ValueError:
                return False
            return hmac.compare_digest(decoded.encode(), self.expected.encode())
        return False
