"""Consumed parameters that the API's authentication supplies (same name, same placement).

OpenAPI-derived files often list the API key as a required query or header parameter
(`appid` in the query) and also declare `authentication: {type: apikey, key: appid,
placement: query}`. The authentication sends it; a caller is never asked for it.
"""

from __future__ import annotations

from .model import Auth, ConsumedParam


def supplied_names(auth: Auth | None) -> set[tuple[str, str]]:
    """(placement, casefolded name) of every parameter the authentication sends."""
    if auth is None:
        return set()
    names: set[tuple[str, str]] = set()
    if auth.type == "apikey":
        names |= {("header", n.casefold()) for n in auth.headers}
        names |= {("query", n.casefold()) for n in auth.query}
        if not (auth.headers or auth.query):
            names.add((auth.placement or "header", (auth.key or "X-API-Key").casefold()))
    elif auth.type in ("bearer", "basic", "digest"):
        names.add(("header", "authorization"))
    return names


def auth_supplies(auth: Auth | None, param: ConsumedParam) -> bool:
    """True when the authentication sends this parameter, so the caller need not."""
    return param.value is None and (param.location, param.name.casefold()) in supplied_names(auth)
