"""What a REST plan reads of a request, and what one request leaves for the layers around it.

`RequestView` is the plain view the per-request core (operation, forward and health plans)
is written against: method, path, query, headers, cookies and a body reader. aiohttp's
`BaseRequest` is one as it is (nothing is copied per request); another HTTP server could
drive the same plans through its own object with these attributes.

`Exchange` is the record one request fills as it passes: the routed path values, then the
request id, the route's access-log fields and the upstream status, which the access log reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from multidict import CIMultiDictProxy, MultiMapping


class RequestView(Protocol):
    """The attributes of a request the plans read (aiohttp's `BaseRequest` has them all)."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def raw_path(self) -> str: ...

    @property
    def query(self) -> MultiMapping[str]: ...

    @property
    def query_string(self) -> str: ...

    @property
    def headers(self) -> CIMultiDictProxy[str]: ...

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...

    @property
    def content_type(self) -> str: ...

    @property
    def can_read_body(self) -> bool: ...

    @property
    def scheme(self) -> str: ...

    @property
    def host(self) -> str: ...

    async def read(self) -> bytes: ...


class Exchange:
    """One request's record: filled by the dispatch and the plan, read by the access log."""

    __slots__ = ("log_fields", "params", "request_id", "upstream_status")

    def __init__(self) -> None:
        self.params: dict[str, str] = {}
        self.request_id: str | None = None
        self.log_fields: Any = None  # ACCESS_LOG.bind(...) of the route, bound once at load
        self.upstream_status: int | None = None
