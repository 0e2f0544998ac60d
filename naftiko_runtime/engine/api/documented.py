"""Answer only the status codes an operation's vendor description documents.

The engine's operations raise one error per reason (400 bad input, 404 missing, 409 state,
412 ETag, 422 unprocessable); an API description may document only some of them for an
operation (Humanitec's ``createPipeline`` has 400 but no 422; ``getPipelineRun`` has 404 but
no 400: a malformed id there is simply not found). Each route declares its documented codes
and an undocumented client error becomes the nearest documented one, keeping its message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import (
    BadRequest,
    Conflict,
    EngineError,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: For each status the engine raises, the documented statuses to fall back to, in order.
NEAREST: dict[int, tuple[int, ...]] = {
    400: (404, 422, 409),
    404: (400, 409),
    409: (400, 404),
    412: (409, 400),
    422: (400, 404, 409),
}
ERRORS: dict[int, type[EngineError]] = {400: BadRequest, 404: NotFound, 409: Conflict, 412: PreconditionFailed,
                                        422: Unprocessable}


def remap(exc: EngineError, documented: frozenset[int]) -> EngineError:
    """``exc`` as the nearest documented client error (itself when documented or nothing fits)."""
    if exc.status in documented:
        return exc
    for status in NEAREST.get(exc.status, ()):
        if status in documented:
            return ERRORS[status](exc.message, details=exc.details)
    return exc


def documented(handler: Handler, *statuses: int) -> Handler:
    """``handler`` answering client errors only with ``statuses`` (see ``remap``)."""
    codes = frozenset(statuses)

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except EngineError as exc:
            mapped = remap(exc, codes)
            if mapped is exc:
                raise
            raise mapped from exc

    wrapped.__name__ = getattr(handler, "__name__", "handler")
    wrapped.__doc__ = handler.__doc__
    return wrapped
