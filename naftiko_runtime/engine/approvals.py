"""Approvals: the waits an ``approve`` step records, listed and decided."""

from __future__ import annotations

from . import events
from .errors import BadRequest, NotFound
from .events import EventBus
from .executor import Executor
from .guards import check_id
from .model import Approval, Run, now
from .store import Store


class Approvals:
    """The approval part of the ``Engine`` (mixed into it)."""

    store: Store
    bus: EventBus
    executor: Executor

    def list_approvals(self, org_id: str, app_id: str, pipelines: list[str] | None = None,
                       runs: list[str] | None = None, status: str | None = None) -> list[Approval]:
        check_id("org id", org_id)
        check_id("app id", app_id)
        out = [a for a in self.store.approvals.values() if (a.org_id, a.app_id) == (org_id, app_id)
               and (not pipelines or a.pipeline_id in pipelines) and (not runs or a.run_id in runs)
               and (not status or a.status == status)]
        return sorted(out, key=lambda a: a.created_at, reverse=True)

    def get_approval(self, run: Run, job_id: str, approval_id: str) -> Approval:
        approval = self.store.approvals.get(approval_id)
        if approval is None or approval.run_id != run.id or approval.job_id != job_id:
            raise NotFound(f"approval {approval_id!r} not found")
        return approval

    async def decide_approval(self, approval: Approval, approve: bool, user: str = "local-user") -> Approval:
        if approval.status != "waiting":
            raise BadRequest(f"approval {approval.id!r} is {approval.status}, not waiting")
        approval.status = "approved" if approve else "denied"
        approval.approved_by, approval.approved_at = user, now()
        await self.store.save_approval(approval)
        self.bus.publish(events.APPROVAL_UPDATED, approval.to_dict())
        self.executor.resolve_approval(approval)
        return approval
