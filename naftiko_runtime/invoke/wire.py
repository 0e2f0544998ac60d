"""The innermost upstream layer, by the run's choice of HTTP client (`--http-client`).

aiohttp is the default and always installed; pyreqwest comes with the `fast` extra
(`pip install 'naftiko-runtime[fast]'`) and is imported only when chosen.
"""

from __future__ import annotations

from .transport import AiohttpTransport, Transport, UpstreamSettings

HTTP_CLIENTS = ("aiohttp", "pyreqwest")


class ClientUnavailable(Exception):
    """The chosen HTTP client cannot be used here, said in one line."""


def open_wire(settings: UpstreamSettings) -> Transport:
    """A pooled transport over `settings.client`: one attempt per call, the layers above retry."""
    if settings.client == "aiohttp":
        return AiohttpTransport(settings)
    if settings.client == "pyreqwest":
        try:
            from .pyreqwest_transport import PyreqwestTransport
        except ImportError as exc:
            raise ClientUnavailable(
                f"the pyreqwest HTTP client is not installed ({exc}): pip install 'naftiko-runtime[fast]', or use --http-client aiohttp"
            ) from None
        return PyreqwestTransport(settings)
    raise ClientUnavailable(f"unknown HTTP client '{settings.client}': expected one of {', '.join(HTTP_CLIENTS)}")
