"""Normalise a script step: what it declares, nothing about this machine (the interpreter is looked up
when a server starts, so a file validates the same everywhere)."""

from __future__ import annotations

from typing import Any

from .. import model as m
from ..scripting import LANGUAGES, script_language
from ..yaml_source import JsonPath as YPath
from .context import Context
from .values import as_list


def script_step(ctx: Context, raw: dict[str, Any], path: YPath) -> m.ScriptStep:
    language = script_language(raw)
    if language not in LANGUAGES:
        name = str(raw.get("name", ""))
        ctx.error(
            f"script step '{name}': script language '{language}' is not one of {', '.join(LANGUAGES)}",
            path + (("language",) if "language" in raw else ("file",)),
            "script-language",
        )
    return m.ScriptStep(
        language=language,
        file=str(raw.get("file") or ""),
        dependencies=tuple(str(d) for d in as_list(raw.get("dependencies"))),
        location=str(raw.get("location") or "."),
    )
