"""Script step languages, as a capability file declares them.

Python runs on the runtime's own interpreter; JavaScript needs `node` and Groovy `groovy`. Whether
those are installed is a property of the machine, not of the file: it is looked up when a server
starts (`invoke/scripts.py`), never at load, so a file validates the same everywhere.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("python", "javascript", "groovy")
ALIASES = {"py": "python", "js": "javascript", "node": "javascript"}
EXTENSIONS = {".py": "python", ".js": "javascript", ".cjs": "javascript", ".mjs": "javascript", ".groovy": "groovy"}


def script_language(step: dict[str, Any]) -> str:
    """The step's `language`, else guessed from the file's extension, else python."""
    declared = str(step.get("language") or "").strip().lower()
    if declared:
        return ALIASES.get(declared, declared)
    file = str(step.get("file") or "")
    for ext, language in EXTENSIONS.items():
        if file.endswith(ext):
            return language
    return "python"
