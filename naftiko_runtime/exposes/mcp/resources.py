"""Resource and prompt locations: files under the capability's directory, URI templates."""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

import mcp_types as types

_URI_VAR = re.compile(r"\{([^{}/]+)\}")


def _location_path(location: str, base_dir: Path) -> Path:
    """`file:///abs`, `file:///./rel`, `./rel`: relative paths are against the capability's directory."""
    path = location
    if path.startswith("file://"):
        path = path[len("file://"):]
        if path.startswith(("/./", "/../")):
            path = path[1:]
    p = Path(path)
    return (p if p.is_absolute() else base_dir / p).resolve()


def _read_file(path: Path, uri: str, mime: str | None) -> types.TextResourceContents | types.BlobResourceContents:
    data = path.read_bytes()
    mime = mime or mimetypes.guess_type(path.name)[0] or "text/plain"
    try:
        return types.TextResourceContents(uri=uri, mime_type=mime, text=data.decode("utf-8"))
    except UnicodeDecodeError:
        return types.BlobResourceContents(uri=uri, mime_type=mime, blob=base64.b64encode(data).decode("ascii"))


def _group(name: str) -> str:
    return "v_" + re.sub(r"\W", "_", name)


def _uri_pattern(template: str) -> re.Pattern[str]:
    """`{p}` matches one path segment, never a `/`."""
    parts, pos = [], 0
    for m in _URI_VAR.finditer(template):
        parts.append(re.escape(template[pos : m.start()]))
        parts.append(f"(?P<{_group(m.group(1))}>[^/]+)")
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts) + r"\Z")

