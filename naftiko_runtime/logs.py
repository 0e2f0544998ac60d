"""Structured logging with secrets redacted wherever they appear.

Every resolved bind value is registered as a secret; `Authorization`, `Cookie` and
API-key values are registered as they pass. The filter rewrites the message and every
extra field before any handler sees the record.

A record is always one line: the text formatter escapes control characters in the
message and in every field (a caller's `%0a` in a path cannot forge a line), and shows
an exception as its type and message; the traceback follows, indented, only at debug.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "***"
LOGGER = logging.getLogger("naftiko")
_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class Secrets:
    """The process-wide set of values that must never be printed."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._sorted: list[str] = []

    def add(self, values: Iterable[str]) -> None:
        """Register values, with the forms an upstream may echo them in (URL-encoded, JSON-escaped)."""
        for value in values:
            if not value or len(value) < 3:
                continue
            self._values.update({value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]})
        self._sorted = sorted(self._values, key=len, reverse=True)

    def add_basic(self, username: str, password: str) -> None:
        """A Basic credential as it travels in `Authorization` (and as an upstream may echo it)."""
        if username or password:
            self.add([base64.b64encode(f"{username}:{password}".encode()).decode("ascii")])

    def __contains__(self, value: str) -> bool:
        return value in self._values

    def redact(self, text: str) -> str:
        for value in self._sorted:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        if not self._sorted:
            return data
        text = data.decode("utf-8", "surrogateescape")
        redacted = self.redact(text)
        return data if redacted == text else redacted.encode("utf-8", "surrogateescape")

    def redact_any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_any(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_any(v) for v in value]
        return value


SECRETS = Secrets()


def redact_outcome(outcome: Any) -> Any:
    """An upstream's answer with every secret replaced (for error bodies relayed to a caller)."""
    if outcome.raw:
        outcome.raw = SECRETS.redact_bytes(outcome.raw)
    outcome.data = SECRETS.redact_any(outcome.data)
    if outcome.message:
        outcome.message = SECRETS.redact(outcome.message)
    outcome.headers = {k: SECRETS.redact(v) for k, v in outcome.headers.items()}
    return outcome


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = SECRETS.redact(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _RESERVED:
                record.__dict__[key] = SECRETS.redact_any(value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = SECRETS.redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`text` with every control character (and Unicode line separator) written as an escape."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: _NAMED.get(m[0]) or f"\\u{ord(m[0]):04x}", text)


def exception_line(exc: BaseException | None) -> str:
    """An exception as one redacted line: its type and message."""
    if exc is None:
        return ""
    message = str(exc).strip()[:500]
    name = type(exc).__name__
    return escape_controls(SECRETS.redact(f"{name}: {message}" if message else name))


class TextFormatter(logging.Formatter):
    """One line per record; `debug` adds an exception's traceback, indented, below it."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__()
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{escape_controls(str(k))}={escape_controls(str(v))}"
            for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_") and v is not None
        )
        message = escape_controls(record.getMessage())
        line = f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {record.levelname.lower():7} {message}"
        line = f"{line} {extras}".rstrip()
        if record.exc_info and record.exc_info[1] is not None:
            line = f"{line} error={exception_line(record.exc_info[1])}"
            if self.debug:
                trace = SECRETS.redact(self.formatException(record.exc_info))
                line += "".join(f"\n    {escape_controls(t)}" for t in trace.splitlines())
        return line


class AccessLog:
    """The one line per served request, written without a `LogRecord` when the handler is ours.

    A route's own fields (adapter, method, route, operation) are escaped and redacted once, when
    `bind` is called at load; per request only the status, durations and request id are
    formatted. The line is what `TextFormatter` or `JsonFormatter` would print for
    `LOGGER.info("request", extra=...)`; when `configure` did not install the handler (a
    test's own handler, a library's), that call is made instead.
    """

    def __init__(self) -> None:
        self.handler: logging.StreamHandler[Any] | None = None
        self.json = False
        self._second = -1
        self._stamp = ""

    def install(self, handler: logging.StreamHandler[Any] | None, json_format: bool) -> None:
        self.handler, self.json = handler, json_format

    def bind(self, fields: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """`fields` with their text form: ` key=value` pairs, escaped and redacted (None omitted)."""
        text = "".join(f" {k}={escape_controls(SECRETS.redact(str(v)))}" for k, v in fields.items() if v is not None)
        return fields, text

    def write(self, bound: tuple[dict[str, Any], str], status: int, upstream_status: int | None, duration_ms: float, request_id: str | None) -> None:
        handler = self.handler
        handlers = LOGGER.handlers
        if handler is None or len(handlers) != 1 or handlers[0] is not handler or not LOGGER.isEnabledFor(logging.INFO):
            LOGGER.info("request", extra={**bound[0], "status": status, "upstream_status": upstream_status,
                                          "duration_ms": duration_ms, "request_id": request_id})
            return
        now = time.time()
        if self.json:
            rid = SECRETS.redact(request_id) if request_id else None
            payload = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z",
                       "level": "info", "event": "request", **{k: SECRETS.redact_any(v) for k, v in bound[0].items()},
                       "status": status, "upstream_status": upstream_status, "duration_ms": duration_ms, "request_id": rid}
            line = json.dumps(payload, default=str)
        else:
            rid = escape_controls(SECRETS.redact(request_id)) if request_id else None
            second = int(now)
            if second != self._second:
                self._second, self._stamp = second, time.strftime("%H:%M:%S", time.localtime(now))
            line = f"{self._stamp} info    request{bound[1]} status={status}"
            if upstream_status is not None:
                line += f" upstream_status={upstream_status}"
            line += f" duration_ms={duration_ms}"
            if rid is not None:
                line += f" request_id={rid}"
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.flush()
        except (OSError, ValueError):  # a broken or closed stream never fails the request (as Handler.emit)
            handler.handleError(logging.makeLogRecord({"msg": "request"}))
        finally:
            handler.release()


ACCESS_LOG = AccessLog()


def configure(fmt: str = "text", level: str = "info", stream: Any = None) -> None:
    """Log to stderr (stdout belongs to MCP stdio), one line per record.

    The root logger gets the same handler (at warning level), so what aiohttp, uvicorn or
    the MCP SDK log is formatted and redacted the same way.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(debug=level.lower() == "debug"))
    handler.addFilter(RedactingFilter())
    LOGGER.handlers[:] = [handler]
    ACCESS_LOG.install(handler, fmt == "json")
    LOGGER.setLevel(level.upper())
    LOGGER.propagate = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.WARNING, LOGGER.level))
