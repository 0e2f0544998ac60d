"""Who may use the page, and the headers every page answer carries.

The page is a local developer's window: it answers loopback clients only, on a loopback
``Host`` (so a DNS-rebinding site cannot reach it through the browser), and it changes
state only on same-origin JSON requests (a cross-site form cannot approve anything). The
engine's ``--strict-auth`` check still runs before these, exactly as for the APIs.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

# No inline script or style: every dynamic value reaches the page as escaped text or attribute.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(request: web.Request, *, write: bool = False) -> None:
    """Refuse (403) anything but a loopback client; for writes, anything but same-origin JSON."""
    if not _loopback(request.remote):
        raise web.HTTPForbidden(text="the engine page answers loopback clients only")
    if not _loopback(request.url.host):
        raise web.HTTPForbidden(text="the engine page answers only on a loopback host name")
    if not write:
        return
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send application/json")
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise web.HTTPForbidden(text="cross-origin requests are refused")
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        raise web.HTTPForbidden(text="cross-site requests are refused")
