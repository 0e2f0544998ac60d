"""Script step languages and the interpreters that run them.

Python always runs (the runtime's own interpreter, isolated). JavaScript needs `node` and
Groovy needs `groovy` on PATH; without one, a script step in that language is an error at
load, so `naftiko validate` and `naftiko run` refuse it before any request arrives.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any

LANGUAGES = ("python", "javascript", "groovy")
ALIASES = {"py": "python", "js": "javascript", "node": "javascript"}
EXTENSIONS = {".py": "python", ".js": "javascript", ".cjs": "javascript", ".mjs": "javascript", ".groovy": "groovy"}
COMMANDS = {"javascript": ("node", "nodejs"), "groovy": ("groovy",)}
INSTALL_HINT = {"javascript": "install Node.js (node)", "groovy": "install Groovy (groovy)"}


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


def interpreter(language: str) -> str | None:
    """The program that runs `language`, or None when none is installed."""
    if language == "python":
        return sys.executable
    for command in COMMANDS.get(language, ()):
        found = shutil.which(command)
        if found:
            return found
    return None


def unavailable_reason(language: str) -> str | None:
    """Why a script in `language` cannot run here, or None when it can."""
    if language not in LANGUAGES:
        return f"script language '{language}' is not one of {', '.join(LANGUAGES)}"
    if interpreter(language) is None:
        return (
            f"{language} script steps need an interpreter and none is on PATH "
            f"({INSTALL_HINT[language]}, or write the step in Python)"
        )
    return None
