"""Shared helpers for engine tests: a bounded poll instead of sleeps, and a small API client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

TERMINAL = ("succeeded", "failed", "cancelled")
ORG, APP = "demo-org", "demo-app"


async def wait_until(predicate: Callable[[], Awaitable[Any]], timeout: float = 10.0, interval: float = 0.02,
                     what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value {value!r}")
        await asyncio.sleep(interval)


def write_pipeline(root: Path, pipeline_id: str, text: str, org: str = "t-org", app: str = "t-app") -> None:
    folder = root / org / app
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{pipeline_id}.yaml").write_text(text)


class Api:
    """Thin wrapper over the Humanitec paths of one org/app."""

    def __init__(self, session: aiohttp.ClientSession, base: str, org: str = ORG, app: str = APP) -> None:
        self.s = session
        self.base = base
        self.org = org
        self.app = app

    def p(self, pipeline: str) -> str:
        return f"{self.base}/orgs/{self.org}/apps/{self.app}/pipelines/{pipeline}"

    def r(self, pipeline: str, run_id: str) -> str:
        return f"{self.p(pipeline)}/runs/{run_id}"

    async def create(self, pipeline: str, inputs: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        async with self.s.post(f"{self.p(pipeline)}/runs", json={"inputs": inputs or {}}, **kw) as resp:
            body = await resp.json()
            assert resp.status == 201, (resp.status, body)
            return body

    async def run(self, pipeline: str, run_id: str) -> dict[str, Any]:
        async with self.s.get(self.r(pipeline, run_id)) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def job(self, pipeline: str, run_id: str, job_id: str) -> dict[str, Any]:
        async with self.s.get(f"{self.r(pipeline, run_id)}/jobs/{job_id}") as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def wait_status(self, pipeline: str, run_id: str, statuses: tuple[str, ...] = TERMINAL,
                          timeout: float = 15.0) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            run = await self.run(pipeline, run_id)
            return run if run["status"] in statuses else None

        return await wait_until(check, timeout, what=f"run {run_id} to reach {statuses}")

    async def wait_job(self, pipeline: str, run_id: str, job_id: str, status: str,
                       timeout: float = 15.0) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            async with self.s.get(f"{self.r(pipeline, run_id)}/jobs/{job_id}") as resp:
                if resp.status != 200:
                    return None
                job = await resp.json()
            return job if job["status"] == status else None

        return await wait_until(check, timeout, what=f"job {job_id} to be {status}")

    async def logs(self, pipeline: str, run_id: str, job_id: str, index: int) -> list[dict[str, Any]]:
        async with self.s.get(f"{self.r(pipeline, run_id)}/jobs/{job_id}/steps/{index}/logs") as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def waiting_approval(self, pipeline: str, run_id: str) -> dict[str, Any]:
        url = f"{self.base}/orgs/{self.org}/apps/{self.app}/approvals"

        async def check() -> dict[str, Any] | None:
            async with self.s.get(url, params={"run": run_id, "status": "waiting"}) as resp:
                items = await resp.json()
            return items[0] if items else None

        return await wait_until(check, what=f"an approval on run {run_id}")


async def call(session: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> tuple[int, Any]:
    """One request; returns (status, parsed JSON body or text or None when empty)."""
    async with session.request(method, url, **kw) as resp:
        text = await resp.text()
        if not text:
            return resp.status, None
        try:
            return resp.status, await resp.json(content_type=None)
        except ValueError:
            return resp.status, text
