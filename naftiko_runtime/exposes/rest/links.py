"""Rewrite upstream `Link` targets to the exposed route, so clients page through us."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from ...capability.model import RestOperation, RestResource
from .request import RequestView

_LINK = re.compile(r"<([^>]*)>([^,]*)")


def _pattern(parts: tuple) -> re.Pattern[str]:
    regex = "".join(f"(?P<p{i}>[^/]+)" if isinstance(p, tuple) else re.escape(p) for i, p in enumerate(parts))
    return re.compile(f"(?:^|.*?){regex}/?$")


def rewrite_links(header: str, request: RequestView, operation: RestOperation, resource: RestResource,
                  routed: Mapping[str, str]) -> str:
    """`routed`: the request's path values under their declared names."""
    call = operation.action.call
    if call is None:
        return header
    consumed = call.operation.path
    pattern = _pattern(consumed.parts)
    renames = {(v.ref or "").casefold(): k.casefold() for k, v in call.with_.items() if v.kind == "ref"}
    out = []
    for target, params in _LINK.findall(header):
        url = urlsplit(target)
        match = pattern.match(url.path)
        if match is None:
            out.append(f"<{target}>{params}")
            continue
        values = {
            part[0].casefold(): unquote(match.group(f"p{i}"))
            for i, part in enumerate(consumed.parts)
            if isinstance(part, tuple)
        }
        path = []
        for part in (operation.path or resource.path).parts:
            if isinstance(part, tuple):
                name = part[0].casefold()
                value = values.get(renames.get(name, name), values.get(name)) or routed.get(part[0], "")
                path.append(value)
            else:
                path.append(part)
        query = f"?{url.query}" if url.query else ""
        out.append(f"<{request.scheme}://{request.host}{''.join(path)}{query}>{params}")
    return ", ".join(out)
