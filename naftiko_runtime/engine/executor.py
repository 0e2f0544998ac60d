"""Runs pipelines: one asyncio task per run, jobs as a DAG of tasks, steps in order.

Stopping a run is always ``task.cancel()`` plus a recorded reason (``cancel``, ``timeout``,
``shutdown``), so a running ``script`` is killed and a pending approval is dropped at once;
the reason decides the final state (cancelled, timed_out, failed).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from . import events
from .actions import ACTIONS, ActionContext
from .errors import StepFailed
from .events import EventBus
from .expressions import ExpressionError, condition, render, uses_status_function
from .model import JOB_TERMINAL, Approval, Job, JobState, Run, RunState, Step, now
from .pipeline_yaml import JobDef, PipelineDef, StepDef, minutes_to_seconds
from .store import Store

log = logging.getLogger(__name__)

CANCEL = "cancel"
TIMEOUT = "timeout"
SHUTDOWN = "shutdown"
ENGINE_STOPPED = "the engine stopped while this run was executing"


class Executor:
    """Drives runs over the store and announces every change on the bus; the ``StepHost`` of actions."""

    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self.bus = bus
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.stop_reasons: dict[str, str] = {}
        self.groups: dict[str, asyncio.Lock] = {}
        self.approval_waiters: dict[str, asyncio.Future[Approval]] = {}

    # -- control -------------------------------------------------------------------------

    def submit(self, run: Run, definition: PipelineDef, allow_script: bool) -> None:
        task = asyncio.create_task(self._drive(run, definition, allow_script), name=f"run-{run.id}")
        self.tasks[run.id] = task
        task.add_done_callback(lambda _t, rid=run.id: self._forget(rid, _t))

    def _forget(self, run_id: str, task: asyncio.Task[None]) -> None:
        if self.tasks.get(run_id) is task:
            del self.tasks[run_id]
            self.stop_reasons.pop(run_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("run %s crashed", run_id, exc_info=task.exception())

    def stop(self, run_id: str, reason: str) -> bool:
        """Ask a run's task to stop for ``reason``; False if nothing is executing it."""
        task = self.tasks.get(run_id)
        if task is None or task.done():
            return False
        self.stop_reasons.setdefault(run_id, reason)
        task.cancel()
        return True

    async def shutdown(self) -> None:
        """Stop every run (they end ``failed``: the engine stopped) and wait for them."""
        tasks = list(self.tasks.values())
        for run_id in list(self.tasks):
            self.stop(run_id, SHUTDOWN)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- helpers used by actions -----------------------------------------------------------

    def log(self, run: Run, job: Job, step: Step, message: str, level: str = "INFO") -> None:
        for text in str(message).splitlines() or [""]:
            line = self.store.append_log(run.id, job.job_id, step.index, level, text)
            self.bus.publish(events.STEP_LOG, {
                "run_id": run.id, "job_id": job.job_id, "step_index": step.index,
                "at": line.at.isoformat(), "level": level, "message": text,
            })

    def publish(self, type: str, data: dict[str, Any]) -> None:
        self.bus.publish(type, data)

    async def request_approval(self, ctx: ActionContext, env_id: str, message: str) -> Approval:
        run, job = ctx.run, ctx.job
        approval = Approval(id=str(uuid.uuid4()), org_id=run.org_id, app_id=run.app_id, pipeline_id=run.pipeline_id,
                            run_id=run.id, job_id=job.job_id, env_id=env_id, message=message)
        waiter: asyncio.Future[Approval] = asyncio.get_running_loop().create_future()
        self.approval_waiters[approval.id] = waiter
        await self.store.save_approval(approval)
        self.bus.publish(events.APPROVAL_CREATED, approval.to_dict())
        ctx.log(f"waiting for approval {approval.id}: {message}")
        waiting_for = f"pipeline.approval({approval.id})"
        job.move(JobState.WAITING, f"Waiting for approval {approval.id}")
        job.waiting_for = waiting_for
        run.waiting_for[job.job_id] = waiting_for
        await self._sync_run(run)
        await self.save_job(run, job)
        try:
            approval = await waiter
        finally:
            self.approval_waiters.pop(approval.id, None)
        run.waiting_for.pop(job.job_id, None)
        job.waiting_for = None
        job.move(JobState.RUNNING, "Running")
        await self._sync_run(run)
        await self.save_job(run, job)
        return approval

    def resolve_approval(self, approval: Approval) -> None:
        waiter = self.approval_waiters.get(approval.id)
        if waiter is not None and not waiter.done():
            waiter.set_result(approval)

    # -- persistence + events ----------------------------------------------------------------

    async def save_run(self, run: Run) -> None:
        run.touch()
        await self.store.save_run(run)
        self.bus.publish(events.RUN_UPDATED, {"run_id": run.id, "state": str(run.state)})

    async def save_job(self, run: Run, job: Job) -> None:
        job.touch()
        await self.store.save_jobs(job)
        self.bus.publish(events.JOB_UPDATED, {"run_id": run.id, "job_id": job.job_id, "state": str(job.state)})

    async def _move_run(self, run: Run, target: RunState, message: str | None = None) -> None:
        run.move(target, message)
        await self.store.save_run(run)
        self.bus.publish(events.RUN_UPDATED, {"run_id": run.id, "state": str(run.state)})

    async def _sync_run(self, run: Run) -> None:
        """A run is ``waiting`` while any of its jobs waits, ``running`` otherwise."""
        jobs = self.store.jobs.get(run.id, {}).values()
        waiting = any(j.state == JobState.WAITING for j in jobs)
        if waiting and run.state == RunState.RUNNING:
            await self._move_run(run, RunState.WAITING)
        elif not waiting and run.state == RunState.WAITING:
            await self._move_run(run, RunState.RUNNING)

    # -- the run -----------------------------------------------------------------------------

    async def _drive(self, run: Run, definition: PipelineDef, allow_script: bool) -> None:
        try:
            if run.concurrency_group:
                lock = self.groups.setdefault(f"{run.org_id}/{run.app_id}/{run.concurrency_group}", asyncio.Lock())
                async with lock:
                    await self._execute(run, definition, allow_script)
            else:
                await self._execute(run, definition, allow_script)
        except asyncio.CancelledError:
            await self._finish_stopped(run)
        except Exception as exc:  # a bug in the engine fails the run instead of leaving it executing
            log.exception("run %s crashed", run.id)
            self.stop_reasons[run.id] = SHUTDOWN
            await self._finish_stopped(run, f"internal engine error: {exc}")

    async def _execute(self, run: Run, definition: PipelineDef, allow_script: bool) -> None:
        if run.terminal:  # cancelled while queued behind its concurrency group
            return
        await self._move_run(run, RunState.PROCESSING, "Preparing jobs")
        jobs = {
            jid: Job(run_id=run.id, job_id=jid, name=jdef.name,
                     timeout_seconds=minutes_to_seconds(jdef.timeout_minutes or definition.timeout_minutes))
            for jid, jdef in definition.jobs.items()
        }
        run.job_order = definition.job_order()
        await self.store.save_jobs(*jobs.values())
        await self._move_run(run, RunState.RUNNING, "Executing")
        timer = asyncio.get_running_loop().call_later(run.timeout_seconds, self.stop, run.id, TIMEOUT)
        try:
            await self._run_dag(run, definition, jobs, allow_script)
        finally:
            timer.cancel()
        failed = [j for j in jobs.values() if j.state in (JobState.FAILED, JobState.TIMED_OUT, JobState.CANCELLED)]
        await self._sync_run(run)
        if failed:
            first = failed[0]
            await self._move_run(run, RunState.FAILED, f"Job '{first.job_id}' {first.state}: {first.status_message}")
        else:
            await self._move_run(run, RunState.SUCCEEDED, "All jobs succeeded")

    async def _run_dag(self, run: Run, definition: PipelineDef, jobs: dict[str, Job], allow_script: bool) -> None:
        pending = list(run.job_order)
        running: dict[asyncio.Task[None], str] = {}
        try:
            while pending or running:
                for jid in list(pending):
                    jdef = definition.jobs[jid]
                    needs = [jobs[n] for n in jdef.needs]
                    if any(n.state not in JOB_TERMINAL for n in needs):
                        continue
                    pending.remove(jid)
                    blocked = [n for n in needs if n.state != JobState.SUCCEEDED]
                    if blocked and not uses_status_function(jdef.if_):
                        jobs[jid].move(JobState.SKIPPED, f"Skipped: needed job '{blocked[0].job_id}' {blocked[0].state}")
                        await self.save_job(run, jobs[jid])
                        continue
                    task = asyncio.create_task(self._run_job(run, definition, jdef, jobs, allow_script))
                    running[task] = jid
                if not running:
                    break
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    running.pop(task)
                    if not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        except BaseException:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise

    def _context(self, run: Run, definition: PipelineDef, jobs: dict[str, Job], steps: dict[str, Any],
                 failed: bool) -> dict[str, Any]:
        return {
            "inputs": run.inputs,
            "steps": steps,
            "needs": {jid: {"outputs": j.outputs, "result": str(j.state)} for jid, j in jobs.items()},
            "pipeline": {"id": run.pipeline_id, "name": definition.name, "run_id": run.id,
                         "org_id": run.org_id, "app_id": run.app_id,
                         "run": {"id": run.id, "trigger": run.trigger}},
            "run": {"id": run.id, "trigger": run.trigger},
            "__functions__": {
                "success": lambda: not failed,
                "failure": lambda: failed,
                "always": lambda: True,
                "cancelled": lambda: False,
            },
        }

    async def _run_job(self, run: Run, definition: PipelineDef, jdef: JobDef, jobs: dict[str, Job],
                       allow_script: bool) -> None:
        job = jobs[jdef.id]
        loop = asyncio.get_running_loop()
        steps_ctx: dict[str, Any] = {}
        if jdef.if_ is not None:
            try:
                ok = condition(jdef.if_, self._context(run, definition, jobs, steps_ctx, False))
            except ExpressionError as exc:
                job.move(JobState.RUNNING)
                job.move(JobState.FAILED, f"bad 'if' expression: {exc}")
                await self.save_job(run, job)
                return
            if not ok:
                job.move(JobState.SKIPPED, "Skipped: 'if' condition is false")
                await self.save_job(run, job)
                return
        job.move(JobState.RUNNING, "Running")
        await self.save_job(run, job)
        deadline = loop.time() + job.timeout_seconds
        failed = False
        failure_message = ""
        try:
            for sdef in jdef.steps:
                ctx = self._context(run, definition, jobs, steps_ctx, failed)
                try:
                    if sdef.if_ is not None:
                        run_it = condition(sdef.if_, ctx) and (not failed or uses_status_function(sdef.if_))
                    else:
                        run_it = not failed
                except ExpressionError as exc:
                    run_it, failed, failure_message = False, True, f"step {sdef.index}: bad 'if' expression: {exc}"
                if not run_it:
                    job.steps.append(Step(index=sdef.index, name=sdef.name, uses=sdef.uses, state=JobState.SKIPPED,
                                          status_message="Skipped", completed_at=now()))
                    if sdef.id:
                        steps_ctx[sdef.id] = {"outputs": {}, "status": "skipped", "outcome": "skipped",
                                              "conclusion": "skipped"}
                    continue
                step = await self._run_step(run, job, sdef, ctx, deadline, allow_script)
                if step.state != JobState.SUCCEEDED and not sdef.continue_on_error:
                    failed = True
                    failure_message = f"step {sdef.index} ({sdef.name}): {step.status_message}"
                if sdef.id:
                    steps_ctx[sdef.id] = {"outputs": step.outputs, "status": str(step.state),
                                          "outcome": str(step.state),
                                          "conclusion": "succeeded" if sdef.continue_on_error else str(step.state)}
                if loop.time() >= deadline and step.state == JobState.TIMED_OUT:
                    job.move(JobState.TIMED_OUT, f"Job timed out after {job.timeout_seconds}s")
                    await self.save_job(run, job)
                    return
            try:
                job.outputs = render(jdef.outputs, self._context(run, definition, jobs, steps_ctx, failed))
            except ExpressionError as exc:
                failed, failure_message = True, f"bad job outputs: {exc}"
            job.move(JobState.FAILED if failed else JobState.SUCCEEDED, failure_message or "Succeeded")
            await self.save_job(run, job)
        except asyncio.CancelledError:
            await self._stop_job(run, job)
            raise

    async def _run_step(self, run: Run, job: Job, sdef: StepDef, ctx: dict[str, Any], deadline: float,
                        allow_script: bool) -> Step:
        loop = asyncio.get_running_loop()
        step_seconds = minutes_to_seconds(sdef.timeout_minutes) if sdef.timeout_minutes else job.timeout_seconds
        step = Step(index=sdef.index, name=sdef.name, uses=sdef.uses, status_message="Running",
                    timeout_seconds=step_seconds, step_id=sdef.id)
        job.steps.append(step)
        await self.save_job(run, job)
        limit = min(loop.time() + (sdef.timeout_minutes * 60 if sdef.timeout_minutes else step_seconds), deadline)
        try:
            fn = ACTIONS.get(sdef.action)
            if fn is None:
                raise StepFailed(f"unknown action {sdef.action!r} (from uses: {sdef.uses})")
            try:
                with_ = render(sdef.with_, ctx)
            except ExpressionError as exc:
                raise StepFailed(f"bad expression in 'with': {exc}") from exc
            actx = ActionContext(host=self, run=run, job=job, step=step, with_=with_,
                                 allow_script=allow_script, outputs=step.outputs)
            async with asyncio.timeout_at(limit):
                await fn(actx)
            step.move(JobState.SUCCEEDED, "Succeeded")
        except StepFailed as exc:
            step.move(JobState.FAILED, exc.message)
        except TimeoutError:
            job_limit_hit = limit >= deadline
            message = f"timed out after {job.timeout_seconds if job_limit_hit else step_seconds}s"
            self.log(run, job, step, message, "ERROR")
            step.move(JobState.TIMED_OUT, message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an action bug must fail the step, not the engine
            log.exception("action %s crashed", sdef.action)
            step.move(JobState.FAILED, f"internal error in action {sdef.action!r}: {exc}")
        await self.save_job(run, job)
        self.bus.publish(events.STEP_UPDATED, {"run_id": run.id, "job_id": job.job_id, "index": step.index,
                                                      "state": str(step.state)})
        return step

    # -- stopping ---------------------------------------------------------------------------

    def _stop_state(self, run: Run) -> tuple[str, str]:
        reason = self.stop_reasons.get(run.id, SHUTDOWN)
        if reason == CANCEL:
            return "cancelled", "Cancelled on request"
        if reason == TIMEOUT:
            return "timed_out", f"Run timed out after {run.timeout_seconds}s"
        return "failed", ENGINE_STOPPED

    async def _stop_job(self, run: Run, job: Job) -> None:
        state, message = self._stop_state(run)
        job_state = JobState(state)
        if job.state in (JobState.PENDING, JobState.QUEUED) and job_state is JobState.TIMED_OUT:
            job_state = JobState.CANCELLED
        for step in job.steps:
            if step.state not in JOB_TERMINAL:
                step.state = job_state
                step.status_message = message
                step.completed_at = now()
        if job.state not in JOB_TERMINAL:
            job.move(job_state, message)
        await self.save_job(run, job)

    async def _finish_stopped(self, run: Run, why: str | None = None) -> None:
        """Bring a stopped run, its jobs and approvals to a terminal state and persist them."""
        if run.terminal:
            return
        if why is None and self.stop_reasons.get(run.id, SHUTDOWN) == SHUTDOWN and run.state in (
                RunState.PENDING, RunState.QUEUED):
            return  # never started: it stays queued and runs when the engine starts again
        state, message = self._stop_state(run)
        message = why or message
        for job in self.store.jobs.get(run.id, {}).values():
            if job.state not in JOB_TERMINAL:
                await self._stop_job(run, job)
        for approval in list(self.store.approvals.values()):
            if approval.run_id == run.id and approval.status == "waiting":
                approval.status = "cancelled"
                await self.store.save_approval(approval)
                self.bus.publish(events.APPROVAL_UPDATED, approval.to_dict())
        target = {"cancelled": RunState.CANCELLED, "timed_out": RunState.TIMED_OUT}.get(state, RunState.FAILED)
        if run.state in (RunState.PENDING,) and target is not RunState.CANCELLED:
            target = RunState.CANCELLED
        if run.state in (RunState.QUEUED, RunState.PROCESSING) and target is RunState.TIMED_OUT:
            target = RunState.CANCELLED
        await self._move_run(run, target, message)
