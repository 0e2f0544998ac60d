"""Exposed paths compiled once for the dispatch table: any placeholder name, duplicates, which route wins.

A path without placeholders is looked up as it is; one with placeholders becomes a regular
expression whose groups map back to the names the file declares, so `{inspection-id}` or
`{sys.id}` route like `{id}`. A placeholder matches one segment (`[^{}/]+`, as aiohttp's
router does) and its value is percent-decoded like aiohttp's (`%2F` and `%25` are the only
escapes left in the path it is matched against); the last placeholder of a `forward`
resource takes the rest of the path, slashes included.

Routes are tried most specific first (literal segments before placeholders with literal
text before bare placeholders), so `/photos/{id}.jpg` is reached even when `/photos/{id}`
exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...expressions.paths import PathTemplate

SEGMENT = "[^{}/]+"


@dataclass(frozen=True)
class PathPattern:
    """An exposed path as the dispatch table matches it."""

    text: str  # the path in `{name}` form, as logs and OpenAPI show it
    literal: bool  # no placeholders: matched by equality
    regex: re.Pattern[str]
    names: tuple[str, ...]  # the declared name of each group, in order
    first: str | None  # the first segment when it is literal text (the table's index), else None

    def match(self, path: str) -> dict[str, str] | None:
        """The path values under their declared names, or None when `path` is not this route."""
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        return {name: _unquote(value) for name, value in zip(self.names, found.groups(), strict=True)}


def _unquote(value: str) -> str:
    if "%" not in value:
        return value
    return value.replace("%2F", "/").replace("%25", "%")


def pattern_of(template: PathTemplate, *, tail: bool = False) -> PathPattern:
    """`tail`: the last placeholder, if the path ends in one, takes the rest of the path."""
    parts = template.parts
    regex: list[str] = []
    names: list[str] = []
    for i, part in enumerate(parts):
        if isinstance(part, tuple):
            names.append(part[0])
            regex.append("(.*)" if tail and i == len(parts) - 1 else f"({SEGMENT})")
        else:
            regex.append(re.escape(part))
    shape = "".join("{}" if isinstance(p, tuple) else p for p in parts)
    head = shape[1:].partition("/")[0] if shape.startswith("/") else None
    first = head if head is not None and "{}" not in head else None
    return PathPattern(template.route, not names, re.compile("".join(regex)), tuple(names), first)


def route_key(template: PathTemplate) -> tuple[str, ...]:
    """Segments with every placeholder as `{}` and its literal text kept: equal keys match the same URLs.

    `/photos/{id}.jpg` and `/photos/{id}.json` differ; `/contacts` and `/contacts/` differ too."""
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
