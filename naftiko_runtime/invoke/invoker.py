"""Run one exposed action: bind the call, send it upstream, shape the answer.

Every adapter (REST, MCP, the CLI's `naftiko call`) goes through `Invoker.invoke`, so
an operation behaves the same whichever way it is reached.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from ..binding.binds import BindValues
from ..binding.call_binding import bind_call
from ..binding.incoming import Incoming
from ..capability.model import Action, Call, Capability
from ..errors import InvokeError, NaftikoError, UpstreamError
from .auth import apply_auth
from .client import FORWARDED_HEADERS
from .formats import FormatError, parse_body
from .middleware import Middleware, chain
from .outcome import Outcome, StepResult
from .output import NOTHING, apply_mappings, map_outputs
from .request import build_request, override_base
from .scripts import ScriptPlans
from .steps import run_steps
from .transport import Transport, UpstreamResponse

__all__ = ["Invoker", "Outcome", "StepResult"]

PASSED_HEADERS = ("ETag", "Location", "Link", "Retry-After")


class Invoker:
    """Invokes the actions of one capability through its invoke middlewares and upstream transport.

    The transport (often shared process-wide, see `naftiko_runtime.stack`) sends upstream;
    `middlewares` wrap every action; `env` is the environment captured when the capability
    was loaded (baseUri placeholders, `in: environment` parameters): nothing reads
    `os.environ` per request.
    """

    def __init__(
        self,
        capability: Capability,
        binds: BindValues,
        transport: Transport,
        base_overrides: dict[str, str] | None = None,
        *,
        middlewares: Sequence[Middleware] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.capability = capability
        self.binds = binds
        self.bind_context = binds.context()
        self.transport = transport
        self.base_overrides = base_overrides or {}
        # Without an explicit mapping, the environment as it is now, once: never re-read per request.
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        self._bases: dict[tuple[str, str | None], str] = {}
        self.scripts = ScriptPlans(capability)  # interpreters, folders, timeouts: resolved once, here
        self._chain = chain(middlewares, self._run)

    def base_uri(self, namespace: str) -> str:
        override = self.base_overrides.get(namespace) or self.base_overrides.get("*")
        key = (namespace, override)
        base = self._bases.get(key)  # overrides may change after start (local engine), so they are part of the key
        if base is None:
            api = self.capability.api(namespace)
            base = api.base_uri if api else ""
            base = self._bases[key] = override_base(base, override) if override else base
        return base

    def invoke(self, action: Action, incoming: Incoming) -> Awaitable[Outcome]:
        """The call to await. Raises NaftikoError: InputError (400) for bad input, InvokeError 503 for a part
        disabled by a defect of the file, UpstreamError (502/504) for upstream faults.

        The middleware chain's own coroutine, not one awaiting it: one frame less for every resumption."""
        return self._chain(action, incoming)

    async def _run(self, action: Action, incoming: Incoming) -> Outcome:
        if action.broken:
            raise InvokeError(503, "operation_disabled", f"'{action.name}' is disabled: {action.broken}")
        if action.steps:
            return await self._steps(action, incoming)
        if action.call is not None:
            return await self._call(action, incoming)
        return self._mock(action, incoming)

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
        bound = bind_call(call, incoming, self.bind_context, extra=extra, env=self.env)
        base = self.base_uri(op.namespace)
        try:
            request = build_request(bound, base, self.env)
        except NaftikoError:
            raise
        except ValueError as exc:
            raise InvokeError(400, "invalid_input", str(exc), name) from None
        request.middlewares = tuple(apply_auth(op.api.auth if op.api else None, request, self.bind_context))
        request.pool_key, request.upstream, request.namespace, request.operation = f"{op.namespace}@{base}", name, op.namespace, op.name
        if incoming.request_id:
            request.headers.setdefault("X-Request-Id", incoming.request_id)
        if incoming.headers:
            _forward(incoming.headers, request.headers)
        response = await self.transport.send(request)
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
            if response.status >= 300:  # the upstream's words are read only for a redirect or an error
                outcome.message = _message(result.data, response)
            return outcome
        if not response.body:
            outcome.data = None
            return outcome
        ctx = ChainMap(incoming.values, self.bind_context)
        outcome.data = map_outputs(action.outputs, result.data, ctx)
        return outcome

    async def _steps(self, action: Action, incoming: Incoming) -> Outcome:
        results, failed = await run_steps(self.send, action, incoming, self.scripts)
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
        await self.transport.close()


def _forward(incoming: Any, outgoing: dict[str, str]) -> None:
    """Copy the forwarded caller headers unless the call already sets them (any case)."""
    present: set[str] | None = None
    for name in FORWARDED_HEADERS:
        value = incoming.get(name)
        if not value:  # the usual case: nothing to copy, so the call's header names are not even folded
            continue
        if present is None:
            present = {k.lower() for k in outgoing}
        if name.lower() not in present and not any(c in value for c in "\r\n\x00"):
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
