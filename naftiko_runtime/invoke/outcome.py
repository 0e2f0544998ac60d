"""What one invocation answers (`Outcome`) and what one consumed call returned (`StepResult`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .client import is_redirect
from .output import NOTHING
from .transport import UpstreamResponse


@dataclass
class Outcome:
    """The answer to one call. `data` is NOTHING when the raw upstream body is passed through."""

    status: int
    data: Any = NOTHING
    raw: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    upstream: str | None = None
    upstream_status: int | None = None
    message: str | None = None
    upstream_url: str | None = None

    @property
    def is_error(self) -> bool:
        return self.status >= 400

    @property
    def is_redirect(self) -> bool:
        """The upstream redirected (never followed): no adapter may present it as a success."""
        return is_redirect(self.status)

    def body_value(self) -> Any:
        """The upstream body: mapped data, else JSON if the raw body parses, else text, else None."""
        if self.data is not NOTHING:
            return self.data
        if not self.raw:
            return None
        text = self.raw.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except ValueError:
            return text

    def error_json(self) -> dict[str, Any]:
        """An upstream error in the exported `Error` shape; the upstream's own body (redact it first) under `upstream`."""
        where = f"upstream {self.upstream} " if self.upstream else "upstream "
        return {
            "error": "upstream_rejected" if 400 <= self.status < 500 else "upstream_failed",
            "message": f"{where}answered {self.status}: {self.message or f'HTTP {self.status}'}",
            "upstream": {
                **({"operation": self.upstream} if self.upstream else {}),
                "status": self.upstream_status or self.status,
                "body": self.body_value(),
            },
        }

    @property
    def is_empty(self) -> bool:
        """No content: an empty upstream answer, mapped or passed through."""
        return self.data is None or (self.data is NOTHING and not self.raw)


@dataclass
class StepResult:
    response: UpstreamResponse
    data: Any
