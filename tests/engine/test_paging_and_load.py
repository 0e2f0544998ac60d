"""Paging (250 runs, a long step log) and 50 runs started at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from naftiko_runtime.engine import start_engine
from naftiko_runtime.engine.paging import parse_link_next

from .helpers import Api, wait_until, write_pipeline

LONG_LOG = """
name: Long log
on: {pipeline_call: {}}
jobs:
  main:
    steps:
      - uses: script
        with: {run: 'i=1; while [ $i -le 250 ]; do echo "line $i"; i=$((i+1)); done'}
"""


async def _pages(session: aiohttp.ClientSession, url: str, limit: int = 50) -> tuple[list[list], list[str]]:
    pages, links = [], []
    next_url: str | None = url
    while next_url and len(pages) < limit:
        async with session.get(next_url) as resp:
            assert resp.status == 200, await resp.text()
            pages.append(await resp.json())
            next_url = parse_link_next(resp.headers.get("Link"))
            if next_url:
                links.append(next_url)
    return pages, links


async def test_paging_through_250_runs(tapi: Api, session: aiohttp.ClientSession) -> None:
    created = await asyncio.gather(*(tapi.create("quick", {"n": i}) for i in range(250)))
    ids = [r["id"] for r in created]
    pages, links = await _pages(session, f"{tapi.p('quick')}/runs?per_page=100")
    assert [len(p) for p in pages] == [100, 100, 50]
    seen = [r["id"] for page in pages for r in page]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 250
    listed = [r for page in pages for r in page]  # newest first
    assert all(a["created_at"] >= b["created_at"] for a, b in zip(listed, listed[1:]))
    assert all("per_page=100" in link and "page=" in link for link in links)
    # default page size is 50 and the token is opaque, and org-level listing pages the same runs
    pages, _ = await _pages(session, f"{tapi.base}/orgs/t-org/pipeline-runs")
    assert [len(p) for p in pages] == [50] * 5
    # a new run created while paging does not shift the pages already handed out
    async with session.get(f"{tapi.p('quick')}/runs?per_page=100") as resp:
        first = await resp.json()
        nxt = parse_link_next(resp.headers["Link"])
    await tapi.create("quick", {"n": 999})
    async with session.get(nxt) as resp:  # type: ignore[arg-type]
        second = await resp.json()
    assert not {r["id"] for r in first} & {r["id"] for r in second} and len(second) == 100

    async def all_done() -> bool:
        async with session.get(f"{tapi.base}/_engine/state") as resp:
            return not (await resp.json())["runs"]["executing"]

    await wait_until(all_done, timeout=30, what="all runs to finish")


async def test_paging_through_a_long_step_log(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    write_pipeline(tmp_path / "p", "long", LONG_LOG)
    handle = await start_engine(port=0, pipelines_dir=tmp_path / "p")
    try:
        api = Api(session, handle.url, "t-org", "t-app")
        run = await api.create("long")
        await api.wait_status("long", run["id"])
        pages, links = await _pages(session, f"{api.r('long', run['id'])}/jobs/main/steps/0/logs")
        assert [len(p) for p in pages] == [100, 100, 51]  # 250 lines plus the "$ command" line
        messages = [x["message"] for p in pages for x in p if x["level"] == "INFO"]
        assert messages == [f"line {i}" for i in range(1, 251)]
        assert all(set(x) == {"at", "level", "message"} for p in pages for x in p)
        assert len(links) == 2
        async with session.get(f"{api.r('long', run['id'])}/jobs/main/steps/0/logs?page=bogus") as resp:
            assert resp.status == 200 and len(await resp.json()) == 100  # a token not ours: the first page
        async with session.get(f"{api.r('long', run['id'])}/jobs/main/steps/x/logs") as resp:
            assert resp.status == 400
    finally:
        await handle.close()


async def test_a_running_step_log_keeps_a_next_link(tapi: Api, tmp_path: Path) -> None:
    run = await tapi.create("slow", {"pidfile": str(tmp_path / "pid")})
    await tapi.wait_job("slow", run["id"], "work", "executing")
    url = f"{tapi.r('slow', run['id'])}/jobs/work/steps/0/logs"

    async def has_started() -> bool:
        async with tapi.s.get(url) as resp:
            return "started" in [x["message"] for x in await resp.json()]

    await wait_until(has_started, what="the first log line")
    async with tapi.s.get(url) as resp:
        assert parse_link_next(resp.headers.get("Link"))  # still running: a client can tail
    async with tapi.s.post(tapi.r("slow", run["id"]) + "/cancel") as resp:
        assert resp.status == 204
    await tapi.wait_status("slow", run["id"])
    async with tapi.s.get(url) as resp:
        assert parse_link_next(resp.headers.get("Link")) is None


async def test_fifty_runs_at_once_all_finish(api: Api, session: aiohttp.ClientSession) -> None:
    created = await asyncio.gather(*(api.create("ci", {"ref": f"r{i}"}) for i in range(50)))
    assert len({r["id"] for r in created}) == 50

    async def finished() -> list | None:
        async with session.get(f"{api.p('ci')}/runs", params={"completed": "true", "per_page": 100}) as resp:
            runs = await resp.json()
        return runs if len(runs) == 50 else None

    runs = await wait_until(finished, timeout=45, interval=0.2, what="50 runs to finish")
    assert {r["status"] for r in runs} == {"succeeded"}
