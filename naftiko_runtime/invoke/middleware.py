"""The invoke middleware chain: cross-cutting concerns around every exposed action.

A middleware is `async (action, incoming, call_next) -> Outcome`; `chain` folds a list of
them around the invoker's own work, first in the list outermost. Metrics and tracing
provide theirs (`metrics.RuntimeMetrics.middleware`, `tracing.server_span`);
`naftiko_runtime.stack` decides which go on a served capability, in one visible place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from ..binding.incoming import Incoming
from ..capability.model import Action
from .outcome import Outcome

Next = Callable[[Action, Incoming], Awaitable[Outcome]]
Middleware = Callable[[Action, Incoming, Next], Awaitable[Outcome]]


def chain(middlewares: Sequence[Middleware], endpoint: Next) -> Next:
    """`endpoint` wrapped by `middlewares`, the first one outermost."""
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = partial(middleware, call_next=handler)  # type: ignore[call-arg]  # mypy cannot read partial() of a Protocol
    return handler
