"""`location` values: `file:///./x`, `file:///abs/x`, `./x` or `x`.

One rule everywhere (imports, bind files, script folders, skill and resource folders):
relative locations resolve against the capability file's folder, not the working
directory as the reference engine's bind reader does.
"""

from __future__ import annotations

from pathlib import Path


def resolve_location(location: str, base_dir: Path) -> Path:
    path = location
    if path.startswith("file://"):
        path = path[len("file://"):]
        if path.startswith("/./") or path.startswith("/../"):
            path = path[1:]
    candidate = Path(path)
    return (candidate if candidate.is_absolute() else base_dir / candidate).resolve()
