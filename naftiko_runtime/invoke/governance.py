"""Script step governance: `management.scripting` as it applies now, and what script steps did.

The control adapter's `/scripting` shows it and may change it while the runtime serves (as the
reference's ScriptingResource does): `enabled` (off: every script step fails at once with 503),
`timeout` (ms, applied to the next run), `allowedLanguages` (a step in another language is refused
with 403; empty: any), `defaultLocation`/`defaultLanguage` and `statementLimit`, which are kept and
shown (a step here names its own file and language; subprocess interpreters are bounded by the
timeout, not by a statement count).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..capability.control import ControlAdapter, Scripting
from ..capability.model import Capability
from ..capability.scripting import LANGUAGES

DEFAULT_TIMEOUT_MS = 60_000
DEFAULT_STATEMENT_LIMIT = 100_000


@dataclass
class ScriptGovernance:
    enabled: bool = True
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    statement_limit: int = DEFAULT_STATEMENT_LIMIT
    default_location: str | None = None
    default_language: str | None = None
    allowed_languages: list[str] = field(default_factory=list)
    executions: int = 0
    errors: int = 0
    total_ms: float = 0.0
    last_execution_at: str | None = None

    @classmethod
    def of(cls, capability: Capability) -> ScriptGovernance:
        """From the first control adapter's `management.scripting`, else the defaults."""
        settings = next((a.management.scripting for a in capability.adapters if isinstance(a, ControlAdapter)), Scripting())
        return cls(
            enabled=settings.enabled,
            timeout_ms=int(settings.timeout_ms) if settings.timeout_ms else DEFAULT_TIMEOUT_MS,
            statement_limit=settings.statement_limit or DEFAULT_STATEMENT_LIMIT,
            default_location=settings.default_location,
            default_language=settings.default_language,
            allowed_languages=list(settings.allowed_languages),
        )

    @property
    def timeout_s(self) -> float:
        return self.timeout_ms / 1000.0

    def refusal(self, language: str) -> tuple[int, str, str] | None:
        """(status, error, message) when a step in `language` may not run now."""
        if not self.enabled:
            return 503, "scripting_disabled", "script steps are disabled (management.scripting.enabled is false)"
        if self.allowed_languages and language not in self.allowed_languages:
            return 403, "script_language_not_allowed", (
                f"{language} script steps are not allowed here (allowedLanguages: {', '.join(self.allowed_languages)})")
        return None

    def record(self, duration_s: float, failed: bool) -> None:
        self.executions += 1
        self.errors += failed
        self.total_ms += duration_s * 1000.0
        self.last_execution_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"enabled": self.enabled}
        if self.default_location is not None:
            out["defaultLocation"] = self.default_location
        if self.default_language is not None:
            out["defaultLanguage"] = self.default_language
        out.update(timeout=self.timeout_ms, statementLimit=self.statement_limit)
        if self.allowed_languages:
            out["allowedLanguages"] = list(self.allowed_languages)
        stats: dict[str, Any] = {
            "totalExecutions": self.executions,
            "totalErrors": self.errors,
            "averageDurationMs": round(self.total_ms / self.executions, 2) if self.executions else 0.0,
        }
        if self.last_execution_at is not None:
            stats["lastExecutionAt"] = self.last_execution_at
        out["stats"] = stats
        return out

    def update(self, body: Any) -> str | None:
        """Apply a `PUT /scripting` body; the reason it is refused (nothing is changed then), else None."""
        if not isinstance(body, dict):
            return "the body must be a JSON object"
        changes: dict[str, Any] = {}
        if "enabled" in body:
            if not isinstance(body["enabled"], bool):
                return "'enabled' must be true or false"
            changes["enabled"] = body["enabled"]
        for key, attr in (("timeout", "timeout_ms"), ("statementLimit", "statement_limit")):
            if key in body:
                value = body[key]
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    return f"'{key}' must be an integer greater than or equal to 1"
                changes[attr] = value
        if "defaultLocation" in body:
            location = body["defaultLocation"]
            if not isinstance(location, str) or urlsplit(location).scheme != "file" or not location.startswith("file:///"):
                return "'defaultLocation' must be an absolute file:/// URI"
            changes["default_location"] = location
        if "defaultLanguage" in body:
            if body["defaultLanguage"] not in LANGUAGES:
                return f"unsupported language '{body['defaultLanguage']}'; supported: {', '.join(LANGUAGES)}"
            changes["default_language"] = body["defaultLanguage"]
        if "allowedLanguages" in body:
            languages = body["allowedLanguages"]
            if not isinstance(languages, list):
                return "'allowedLanguages' must be an array"
            unknown = [str(x) for x in languages if x not in LANGUAGES]
            if unknown:
                return f"unsupported language '{unknown[0]}'; supported: {', '.join(LANGUAGES)}"
            changes["allowed_languages"] = list(languages)
        for attr, value in changes.items():
            setattr(self, attr, value)
        return None
