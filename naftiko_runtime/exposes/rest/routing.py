"""Exposed paths as aiohttp routes: any placeholder name, duplicates, and which route wins.

aiohttp only routes `{identifier}` placeholders, but OpenAPI paths carry names like
`{inspection-id}` or `{sys.id}`. Each name that is not an identifier is routed under a
safe one made here and translated back when a request is matched, so everything after
routing sees the names the file declares.

aiohttp tries routes in the order they are added, and `{id}` also matches `1.jpg`: routes
are added most specific first (literal segments before placeholders with literal text
before bare placeholders), so `/photos/{id}.jpg` is reached even when `/photos/{id}` exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ...expressions.paths import PathTemplate

_IDENTIFIER = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")


@dataclass(frozen=True)
class Route:
    """An exposed path as aiohttp routes it, and the way back to the declared names."""

    path: str  # aiohttp's route string
    names: Mapping[str, str]  # aiohttp's variable name -> the declared name (only those that differ)

    def declared(self, match_info: Mapping[str, str]) -> dict[str, str]:
        """The matched path values under the names the file declares."""
        return {self.names.get(k, k): v for k, v in match_info.items()}


def route_of(template: PathTemplate) -> Route:
    """The aiohttp route of an exposed path; placeholder names aiohttp cannot take are renamed safely."""
    taken = set(template.names)
    names: dict[str, str] = {}
    out: list[str] = []
    for part in template.parts:
        if not isinstance(part, tuple):
            out.append(part)
            continue
        name = part[0]
        if _IDENTIFIER.fullmatch(name) is None:
            safe = base = "_" + re.sub(r"[^_a-zA-Z0-9]", "_", name)
            n = 1
            while safe in taken:
                n += 1
                safe = f"{base}_{n}"
            taken.add(safe)
            names[safe] = name
            name = safe
        out.append("{" + name + "}")
    return Route("".join(out), names)


def route_key(template: PathTemplate) -> tuple[str, ...]:
    """Segments with every placeholder as `{}` and its literal text kept: equal keys match the same URLs.

    `/photos/{id}.jpg` and `/photos/{id}.json` differ; `/contacts` and `/contacts/` differ too
    (aiohttp routes them apart)."""
    text = "".join("{}" if isinstance(p, tuple) else p for p in template.parts)
    return tuple(text.split("/"))


def specificity(template: PathTemplate) -> tuple[int, ...]:
    """Sort key: per segment 0 literal, 1 placeholder with literal text, 2 bare placeholder."""
    key = []
    for segment in route_key(template):
        if "{}" not in segment:
            key.append(0)
        else:
            key.append(2 if segment == "{}" else 1)
    return tuple(key)
