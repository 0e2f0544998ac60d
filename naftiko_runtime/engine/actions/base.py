"""What an action receives (``ActionContext``) and the registry that maps names to actions.

Actions are plain ``async def name(ctx)`` functions. They fail a step by raising
``StepFailed``; cancellation and timeouts arrive as ``asyncio.CancelledError``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import StepFailed

if TYPE_CHECKING:
    from ..model import Approval, Job, Run, Step

Action = Callable[["ActionContext"], Awaitable[None]]
ACTIONS: dict[str, Action] = {}


def action(*names: str) -> Callable[[Action], Action]:
    """Register an action under one or more ``uses`` names."""

    def register(fn: Action) -> Action:
        for name in names:
            ACTIONS[name] = fn
        return fn

    return register


class StepHost(Protocol):
    """What an action may ask of whoever runs it (the executor), and nothing more."""

    def log(self, run: Run, job: Job, step: Step, message: str, level: str = "INFO") -> None: ...

    def publish(self, type: str, data: dict[str, Any]) -> None: ...

    async def request_approval(self, ctx: ActionContext, env_id: str, message: str) -> Approval: ...


@dataclass
class ActionContext:
    host: StepHost
    run: Run
    job: Job
    step: Step
    with_: dict[str, Any]
    allow_script: bool
    outputs: dict[str, Any] = field(default_factory=dict)

    def log(self, message: str, level: str = "INFO") -> None:
        self.host.log(self.run, self.job, self.step, message, level)

    def relate(self, key: str, value: str) -> None:
        """Record a related entity on the step; an ``env_id`` is also linked to the run."""
        self.step.related_entities[key] = value
        if key == "env_id" and value not in self.run.env_ids:
            self.run.env_ids.append(value)

    def publish(self, type: str, data: dict[str, Any]) -> None:
        self.host.publish(type, data)

    def get(self, *names: str, default: Any = None) -> Any:
        for name in names:
            if self.with_.get(name) is not None:
                return self.with_[name]
        return default

    def require(self, *names: str) -> Any:
        value = self.get(*names)
        if value is None:
            raise StepFailed(f"missing required input '{names[0]}'")
        return value

    def env_id(self) -> str:
        return str(self.get("env_id", "environment") or self.run.inputs.get("env_id") or "development")
