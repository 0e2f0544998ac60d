"""Where an upstream `Location` may point a REST caller.

The runtime never follows an upstream redirect, and never relays the upstream's own
address: a `Location` on the upstream's origin is rewritten to the exposed route that
serves the same consumed resource; one that matches no exposed route is not relayed
(a 3xx carrying it becomes a 502). A `Location` on another origin is relayed only
outside a 3xx (e.g. a 201 naming a resource elsewhere), redacted like every header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from ...capability.model import RestAdapter, RestOperation, RestResource


@dataclass(frozen=True)
class _Target:
    namespace: str
    consumed: re.Pattern[str]
    consumed_names: tuple[str, ...]
    route: tuple
    renames: dict[str, str]


def _consumed_pattern(parts: tuple) -> re.Pattern[str]:
    regex = "".join(f"(?P<p{i}>[^/?#]+)" if isinstance(p, tuple) else re.escape(p) for i, p in enumerate(parts))
    return re.compile(f"{regex}/?")


def build_targets(adapter: RestAdapter) -> list[_Target]:
    """The exposed GET routes of an adapter, each with the consumed path it serves (built at load)."""
    targets = []
    for resource in adapter.resources:
        for op in resource.operations:
            call = op.action.call
            if op.method != "GET" or call is None:
                continue
            consumed = call.operation.path
            names = tuple(p[0].casefold() if isinstance(p, tuple) else "" for p in consumed.parts)
            renames = {(v.ref or "").casefold(): k.casefold() for k, v in call.with_.items() if v.kind == "ref"}
            targets.append(_Target(call.operation.namespace, _consumed_pattern(consumed.parts), names,
                                   (op.path or resource.path).parts, renames))
    return targets


def adapter_of(resource: RestResource, adapters: list) -> RestAdapter | None:
    return next((a for a in adapters if isinstance(a, RestAdapter) and any(r is resource for r in a.resources)), None)


@dataclass
class LocationRewriter:
    """Rewrites upstream `Location` values for one exposed operation."""

    targets: list[_Target]
    operation: RestOperation

    def rewrite(self, location: str, upstream_url: str, base_uri: str, match_info: dict[str, str]) -> tuple[str | None, bool]:
        """(the Location to send or None, whether it was on the upstream's origin)."""
        target = urljoin(upstream_url, location.strip())
        there, here = urlsplit(target), urlsplit(upstream_url)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            return location, False
        call = self.operation.action.call
        namespace = call.operation.namespace if call is not None else None
        base_path = urlsplit(base_uri).path.rstrip("/")
        path = there.path
        if base_path:
            if not path.startswith(base_path + "/"):
                return None, True
            path = path[len(base_path):]
        for t in self.targets:
            if t.namespace != namespace:
                continue
            found = t.consumed.fullmatch(path)
            if found is None:
                continue
            values = {name: found.group(f"p{i}") for i, name in enumerate(t.consumed_names) if name}
            out = []
            for part in t.route:
                if not isinstance(part, tuple):
                    out.append(part)
                    continue
                name = part[0].casefold()
                value = values.get(t.renames.get(name, name)) or quote(match_info.get(part[0], ""), safe="")
                if not value:
                    break
                out.append(value)
            else:
                return "".join(out) + (f"?{there.query}" if there.query else ""), True
        return None, True
