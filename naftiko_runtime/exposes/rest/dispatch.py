"""The dispatch table of one REST port: method and path -> a ready plan, built once at load.

Every exposed operation, `forward` resource and health route becomes a plan (its handler,
with inputs, templates, credentials, log fields and location rules prepared) under its
compiled path. A request is resolved by one dict lookup for literal paths, then by the
templated routes under its first path segment, then those whose first segment is itself
templated, each list most specific first. A path that matches with another method answers
405 with `Allow` (every method the matching routes take); none, 404.

The same route twice in one file serves the first (a warning names both lines); the same
route in two files sharing a port stops the start (RouteConflict).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from ...capability.model import RestAdapter
from ...expressions.paths import PathTemplate
from ...invoke.invoker import Invoker
from ...logs import ACCESS_LOG, LOGGER
from ..auth import Credentials
from ..health import LIVE, READY, Readiness, live, ready
from .forward import ForwardHandler
from .handler import OperationHandler
from .request import Exchange, RequestView
from .routing import PathPattern, pattern_of, route_key, specificity

ANY = "*"


class RouteConflict(Exception):
    pass


@dataclass
class Mounted:
    adapter: RestAdapter
    invoker: Invoker


class Plan(Protocol):
    """What a route runs: `log_fields` are its access-log fields, bound once at load."""

    @property
    def log_fields(self) -> tuple[dict[str, Any], str] | None: ...  # None: the plan binds them per request

    def __call__(self, request: RequestView, exchange: Exchange) -> Awaitable[web.StreamResponse]: ...


class HealthPlan:
    """`/health/live` or `/health/ready` on a REST port (unless the capability declares the path)."""

    def __init__(self, method: str, route: str, answer: Callable[[], Awaitable[tuple[int, dict[str, Any]]]]) -> None:
        self.answer = answer
        self.log_fields = ACCESS_LOG.bind({"adapter": "rest", "method": method, "route": route, "operation": None})

    async def __call__(self, request: RequestView, exchange: Exchange) -> web.StreamResponse:
        status, body = await self.answer()
        return web.json_response(body, status=status)


Methods = dict[str, Plan]


class RouteTable:
    """The routes of one port; `resolve` is all the routing a request gets."""

    def __init__(self) -> None:
        self.literal: dict[str, Methods] = {}
        self.by_first: dict[str, list[tuple[PathPattern, Methods]]] = {}
        self.templated: list[tuple[PathPattern, Methods]] = []  # first segment templated too
        self._index: dict[PathPattern, Methods] = {}

    def add(self, method: str, pattern: PathPattern, plan: Plan) -> None:
        """Routes are added in the order they are tried; the same pattern again takes more methods."""
        methods = self._index.get(pattern)
        if methods is None:
            methods = self._index[pattern] = {}
            if pattern.literal:
                self.literal.setdefault(pattern.text, methods)
            elif pattern.first is not None:
                self.by_first.setdefault(pattern.first, []).append((pattern, methods))
            else:
                self.templated.append((pattern, methods))
        if pattern.literal:
            methods = self.literal[pattern.text]
        methods.setdefault(method, plan)

    def resolve(self, method: str, path: str) -> tuple[Plan | None, dict[str, str], set[str]]:
        """(the plan, its path values, ∅) or (None, {}, the methods the path takes: empty for 404).

        `path` is decoded except for `%2F` and `%25` (yarl's `path_safe`)."""
        allowed: set[str] = set()
        methods = self.literal.get(path)
        if methods is not None:
            plan = methods.get(method) or methods.get(ANY)
            if plan is not None:
                return plan, {}, allowed
            allowed.update(methods)
        for candidates in (self.by_first.get(path[1:].partition("/")[0]), self.templated):
            if not candidates:
                continue
            for pattern, methods in candidates:
                params = pattern.match(path)
                if params is None:
                    continue
                plan = methods.get(method) or methods.get(ANY)
                if plan is not None:
                    return plan, params, allowed
                allowed.update(methods)
        return None, {}, allowed


def build_routes(mounted: list[Mounted], readiness: Readiness) -> RouteTable:
    """Every declared route, most specific first, then the forwards, then the health routes."""
    owners: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
    declared: set[str] = set()
    entries: list[tuple[tuple[int, ...], str, PathPattern, Plan]] = []
    for mount in mounted:
        adapter, invoker = mount.adapter, mount.invoker
        creds = Credentials.from_spec(adapter.auth, invoker.bind_context)
        file = str(invoker.capability.file)
        for resource in adapter.resources:
            for op in resource.operations:
                path = op.path or resource.path
                key = (op.method, route_key(path))
                where = str(op.action.where or resource.where)
                if key in owners:
                    first_file, first_where = owners[key]
                    if first_file != file:
                        raise RouteConflict(f"{op.method} {path.raw} at {where} collides with the route declared at {first_where}")
                    LOGGER.warning(
                        "duplicate route: serving the first",
                        extra={"file": file, "reason": f"{op.method} {path.raw} at {where} repeats the route declared at {first_where}; only the first is served"},
                    )
                    continue
                owners[key] = (file, where)
                declared.add(path.route)
                handler = OperationHandler(resource, op, invoker, creds, file)
                entries.append((specificity(path), op.method, pattern_of(path), handler))
    table = RouteTable()
    for _, method, pattern, plan in sorted(entries, key=lambda e: e[0]):
        table.add(method, pattern, plan)
    for mount in mounted:  # forwards after every operation: declared operations answer first
        creds = Credentials.from_spec(mount.adapter.auth, mount.invoker.bind_context)
        for resource in mount.adapter.resources:
            if resource.forward is not None:
                pattern = pattern_of(resource.path, tail=True)
                declared.add(resource.path.route)
                tail = pattern.names[-1] if pattern.names and isinstance(resource.path.parts[-1], tuple) else None
                table.add(ANY, pattern, ForwardHandler(resource, mount.invoker, creds, tail, pattern.text))
    add_health(table, readiness, skip=declared)
    return table


def add_health(table: RouteTable, readiness: Readiness, skip: set[str]) -> None:
    """GET (and HEAD) `/health/live` and `/health/ready`, unless the capability declares those paths."""

    async def live_answer() -> tuple[int, dict[str, Any]]:
        return live()

    async def ready_answer() -> tuple[int, dict[str, Any]]:
        return await ready(readiness)

    for route, answer in ((LIVE, live_answer), (READY, ready_answer)):
        if route in skip:
            continue
        pattern = pattern_of(PathTemplate(route, (route,), False))
        for method in ("GET", "HEAD"):
            table.add(method, pattern, HealthPlan(method, route, answer))
