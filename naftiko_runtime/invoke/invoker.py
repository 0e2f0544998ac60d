"""Run one exposed action: bind the call, send it upstream, shape the answer.

Every adapter (REST, MCP, the CLI's `naftiko call`) goes through `Invoker.invoke`, so
an operation behaves the same whichever way it is reached.
"""

from __future__ import annotations

import json
from collections import ChainMap
from dataclasses import dataclass, field
from typing import Any

from ..binding.binds import BindValues
from ..binding.call_binding import bind_call
from ..binding.incoming import Incoming, InputError
from ..capability.model import Action, Call, Capability
from .auth import apply_auth
from .client import FORWARDED_HEADERS, UpstreamPool, UpstreamResponse, is_redirect
from .errors import InvokeError, UpstreamError
from .formats import FormatError, parse_body
from .output import NOTHING, apply_mappings, map_outputs
from .request import BaseUriMissing, build_request, override_base
from .scripts import ScriptPlans
from .steps import run_steps

PASSED_HEADERS = ("ETag", "Location", "Link", "Retry-After")


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


class Invoker:
    """Invokes the actions of one capability; shares the process-wide upstream pool."""

    def __init__(
        self,
        capability: Capability,
        binds: BindValues,
        pool: UpstreamPool,
        base_overrides: dict[str, str] | None = None,
    ) -> None:
        self.capability = capability
        self.binds = binds
        self.bind_context = binds.context()
        self.pool = pool
        self.base_overrides = base_overrides or {}
        self._bases: dict[tuple[str, str | None], str] = {}
        self.scripts = ScriptPlans(capability)  # interpreters, folders, timeouts: resolved once, here

    def base_uri(self, namespace: str) -> str:
        override = self.base_overrides.get(namespace) or self.base_overrides.get("*")
        key = (namespace, override)
        base = self._bases.get(key)  # overrides may change after start (local engine), so they are part of the key
        if base is None:
            api = self.capability.api(namespace)
            base = api.base_uri if api else ""
            base = self._bases[key] = override_base(base, override) if override else base
        return base

    async def invoke(self, action: Action, incoming: Incoming) -> Outcome:
        """Raises InvokeError (400 for bad input, 502/504 for upstream faults)."""
        if action.broken:
            raise InvokeError(502, "operation_unavailable", f"'{action.name}' cannot run: {action.broken}")
        try:
            if action.steps:
                return await self._steps(action, incoming)
            if action.call is not None:
                return await self._call(action, incoming)
            return self._mock(action, incoming)
        except InputError as exc:
            raise InvokeError(400, "invalid_input", exc.message) from None

    def _mock(self, action: Action, incoming: Incoming) -> Outcome:
        ctx = ChainMap(incoming.values, self.bind_context)
        data = map_outputs(action.outputs, incoming.values, ctx)
        if data is NOTHING:
            return Outcome(204, None)
        return Outcome(200, data)

    async def send(self, call: Call, incoming: Incoming, extra: dict[str, Any] | None = None) -> StepResult:
        """Bind and send one consumed call; parse the body when it is not an error.

        The caller's Idempotency-Key / If-Match go on with it (steps withhold them, see steps)."""
        op = call.operation
        name = f"{op.namespace}.{op.name}"
        bound = bind_call(call, incoming, self.bind_context, extra=extra)
        base = self.base_uri(op.namespace)
        try:
            request = build_request(bound, base)
        except BaseUriMissing as exc:
            raise UpstreamError(502, "no_upstream", str(exc), name) from None
        except InputError:
            raise
        except ValueError as exc:
            raise InvokeError(400, "invalid_input", str(exc), name) from None
        middlewares = apply_auth(op.api.auth if op.api else None, request, self.bind_context)
        if incoming.request_id:
            request.headers.setdefault("X-Request-Id", incoming.request_id)
        if incoming.headers:
            _forward(incoming.headers, request.headers)
        response = await self.pool.send(f"{op.namespace}@{base}", name, request, middlewares)
        data: Any = None
        if response.body:
            try:
                data = parse_body(response.body, op.output_format, response.content_type, op.output_schema)
            except FormatError as exc:
                if response.status < 400:
                    raise UpstreamError(502, "upstream_bad_body", f"upstream answered {response.status} with a body that is {exc}", name) from None
                data = response.body.decode("utf-8", "replace")
        return StepResult(response, data)

    async def _call(self, action: Action, incoming: Incoming) -> Outcome:
        assert action.call is not None
        op = action.call.operation
        result = await self.send(action.call, incoming)
        response = result.response
        headers = {h: response.headers[h] for h in PASSED_HEADERS if h in response.headers}
        outcome = Outcome(
            status=response.status,
            headers=headers,
            upstream=f"{op.namespace}.{op.name}",
            upstream_status=response.status,
            content_type=response.content_type,
            upstream_url=response.url,
        )
        if response.status >= 300 or not action.outputs:
            outcome.raw = response.body
            outcome.data = result.data if response.status >= 400 and result.data is not None else NOTHING
            outcome.message = _message(result.data, response)
            return outcome
        if not response.body:
            outcome.data = None
            return outcome
        ctx = ChainMap(incoming.values, self.bind_context)
        outcome.data = map_outputs(action.outputs, result.data, ctx)
        return outcome

    async def _steps(self, action: Action, incoming: Incoming) -> Outcome:
        results, failed = await run_steps(self, action, incoming)
        if failed is not None:
            return Outcome(
                status=failed.response.status,
                data=failed.data,
                raw=failed.response.body,
                content_type=failed.response.content_type,
                upstream_status=failed.response.status,
                message=_message(failed.data, failed.response),
                upstream_url=failed.response.url,
            )
        if action.mappings:
            shaped: Any = apply_mappings(action.mappings, results)
        else:
            shaped = results[action.steps[-1].name] if action.steps else None
        ctx = ChainMap(incoming.values, self.bind_context)
        data = map_outputs(action.outputs, shaped, ctx) if action.outputs else shaped
        return Outcome(200, data)

    async def close(self) -> None:
        await self.pool.close()


def _forward(incoming: Any, outgoing: dict[str, str]) -> None:
    """Copy the forwarded caller headers unless the call already sets them (any case)."""
    present = {k.lower() for k in outgoing}
    for name in FORWARDED_HEADERS:
        value = incoming.get(name)
        if value and name.lower() not in present and not any(c in value for c in "\r\n\x00"):
            outgoing[name] = value


def _message(data: Any, response: UpstreamResponse) -> str:
    """The upstream's own words for an error, whichever field it uses."""
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "title", "error_description"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
    if isinstance(data, str) and data.strip():
        return data.strip()[:500]
    return response.reason or f"HTTP {response.status}"
