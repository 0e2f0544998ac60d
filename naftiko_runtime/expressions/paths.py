"""URL path templates: `/orgs/{orgId}/runs/{{runId}}`, both brace styles alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+?)\s*\}\}|\{([^{}\s]+)\}")


@dataclass(frozen=True)
class PathTemplate:
    """A path split once into literal text and placeholder names."""

    raw: str
    parts: tuple[str | tuple[str], ...]
    single_brace: bool

    @classmethod
    def parse(cls, raw: str) -> PathTemplate:
        parts: list[str | tuple[str]] = []
        single = False
        pos = 0
        for match in PLACEHOLDER.finditer(raw):
            if match.start() > pos:
                parts.append(raw[pos : match.start()])
            name = match.group(1) or match.group(2)
            single = single or match.group(2) is not None
            parts.append((name,))
            pos = match.end()
        if pos < len(raw):
            parts.append(raw[pos:])
        return cls(raw, tuple(parts), single)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The placeholder names, in order (split once: the call binding reads them per request)."""
        return tuple(p[0] for p in self.parts if isinstance(p, tuple))

    @property
    def route(self) -> str:
        """The path in `{name}` form, as aiohttp and OpenAPI write it."""
        return "".join(f"{{{p[0]}}}" if isinstance(p, tuple) else p for p in self.parts)

    @cached_property
    def sent_parts(self) -> tuple[str | tuple[str], ...]:
        """The parts sent upstream: everything before a `#` (Smithy-style `/tags/{arn}#tagKeys`)."""
        out: list[str | tuple[str]] = []
        for part in self.parts:
            if isinstance(part, str) and "#" in part:
                if part.split("#", 1)[0]:
                    out.append(part.split("#", 1)[0])
                break
            out.append(part)
        return tuple(out)

    @cached_property
    def fragment_names(self) -> list[str]:
        """The names after `#` (`/tags#resourceARN&tagKeys`): query parameters filled by name, never a fragment."""
        _, hash_, fragment = self.raw.partition("#")
        if not hash_:
            return []
        names = (PLACEHOLDER.sub(lambda m: m.group(1) or m.group(2), n).split("=")[0].strip() for n in fragment.split("&"))
        return [n for n in names if n]

    def shape(self) -> tuple[str, ...]:
        """Segments with every placeholder as `{}`: two paths of one shape match the same URLs."""
        return tuple("{}" if s.startswith("{") else s for s in self.route.strip("/").split("/"))
