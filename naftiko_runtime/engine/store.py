"""Persistence: in-memory objects, written through to one SQLite file.

Reads are served from memory (no I/O on the event loop). Every write is serialised onto
**one dedicated thread** (``ThreadPoolExecutor(max_workers=1)``) that owns the connection,
so SQLite calls never block the loop and always commit in call order. Snapshots are taken
on the loop thread before they are handed over, so the writer never sees a half-updated
object. Run creation awaits its commit before the API answers 201.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .model import (
    Approval,
    Criteria,
    Job,
    LogLine,
    Pipeline,
    PipelineVersion,
    Run,
    now,
    parse_iso,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS pipelines (org_id TEXT, app_id TEXT, id TEXT, doc TEXT NOT NULL,
    PRIMARY KEY (org_id, app_id, id));
CREATE TABLE IF NOT EXISTS pipeline_versions (id TEXT PRIMARY KEY, org_id TEXT, app_id TEXT,
    pipeline_id TEXT, seq INTEGER, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (run_id TEXT, job_id TEXT, doc TEXT NOT NULL, PRIMARY KEY (run_id, job_id));
CREATE TABLE IF NOT EXISTS logs (run_id TEXT, job_id TEXT, step_index INTEGER, n INTEGER,
    at TEXT, level TEXT, message TEXT, PRIMARY KEY (run_id, job_id, step_index, n));
CREATE TABLE IF NOT EXISTS approvals (id TEXT PRIMARY KEY, run_id TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS criteria (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (scope TEXT, key TEXT, body_hash TEXT, run_id TEXT,
    PRIMARY KEY (scope, key));
CREATE TABLE IF NOT EXISTS docs (kind TEXT, key TEXT, seq INTEGER, doc TEXT NOT NULL, PRIMARY KEY (kind, key));
"""
TABLES = ("pipelines", "pipeline_versions", "runs", "jobs", "logs", "approvals", "criteria", "idempotency", "docs")

LogKey = tuple[str, str, int]  # (run_id, job_id, step_index)


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, default=str, separators=(",", ":"))


class Store:
    """All engine state. Mutate objects, then ``await store.save_*()`` to persist them."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._pending_logs: list[tuple[Any, ...]] = []
        self._log_flush: asyncio.Future[None] | None = None
        self._clear_memory()

    def _clear_memory(self) -> None:
        self.pipelines: dict[tuple[str, str, str], Pipeline] = {}
        self.versions: dict[tuple[str, str, str], list[PipelineVersion]] = defaultdict(list)
        self.runs: dict[str, Run] = {}
        self.jobs: dict[str, dict[str, Job]] = {}
        self.logs: dict[LogKey, list[LogLine]] = defaultdict(list)
        self.approvals: dict[str, Approval] = {}
        self.criteria: dict[str, Criteria] = {}
        self.idempotency: dict[tuple[str, str], tuple[str, str]] = {}
        # Part 2's records (webhooks, deliveries, events) as JSON documents by kind, in insertion order.
        self.docs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.seq = 0
        self.doc_seq = 0

    # -- the writer thread -------------------------------------------------------------

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            assert self._conn is not None
            with self._conn:  # one transaction per call, committed on exit
                result = fn(self._conn)
            # Never hand a Cursor back to the loop thread: freeing it there would reset a cached
            # statement while this thread may be using it (SQLITE_MISUSE).
            return None if isinstance(result, sqlite3.Cursor) else result  # type: ignore[return-value]

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    def _open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(Path(self.path).expanduser()) if self.path != ":memory:" else ":memory:",
                               check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        conn.isolation_level = ""  # back to implicit transactions for `with conn:`
        self._conn = conn

    async def open(self) -> None:
        """Open (or create) the database and load everything into memory."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._open)
        rows = await self._call(self._load_rows)
        self._clear_memory()
        for doc in rows["pipelines"]:
            p = Pipeline.from_dict(doc)
            self.pipelines[(p.org_id, p.app_id, p.id)] = p
        for doc in rows["pipeline_versions"]:
            v = PipelineVersion.from_dict(doc)
            self.versions[(v.org_id, v.app_id, v.pipeline_id)].append(v)
        for doc in rows["runs"]:
            r = Run.from_dict(doc)
            self.runs[r.id] = r
            self.seq = max(self.seq, r.seq)
        for doc in rows["jobs"]:
            j = Job.from_dict(doc)
            self.jobs.setdefault(j.run_id, {})[j.job_id] = j
        for run_id, job_id, idx, at, level, message in rows["logs"]:
            self.logs[(run_id, job_id, idx)].append(LogLine(at=parse_iso(at), level=level, message=message))
        for doc in rows["approvals"]:
            a = Approval.from_dict(doc)
            self.approvals[a.id] = a
        for doc in rows["criteria"]:
            c = Criteria.from_dict(doc)
            self.criteria[c.id] = c
        for scope, key, body_hash, run_id in rows["idempotency"]:
            self.idempotency[(scope, key)] = (body_hash, run_id)
        for kind, key, seq, doc in rows["docs"]:
            self.docs[kind][key] = json.loads(doc)
            self.doc_seq = max(self.doc_seq, seq)

    @staticmethod
    def _load_rows(conn: sqlite3.Connection) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for table, order in (("pipelines", ""), ("pipeline_versions", " ORDER BY seq"), ("runs", " ORDER BY seq"),
                             ("jobs", ""), ("approvals", ""), ("criteria", "")):
            out[table] = [json.loads(r[0]) for r in conn.execute(f"SELECT doc FROM {table}{order}")]
        out["logs"] = list(conn.execute(
            "SELECT run_id, job_id, step_index, at, level, message FROM logs ORDER BY run_id, job_id, step_index, n"))
        out["idempotency"] = list(conn.execute("SELECT scope, key, body_hash, run_id FROM idempotency"))
        out["docs"] = list(conn.execute("SELECT kind, key, seq, doc FROM docs ORDER BY seq"))
        return out

    async def close(self) -> None:
        await self.flush()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._pool, conn.close)
        self._pool.shutdown(wait=True)

    async def reset(self) -> None:
        """Forget everything, in memory and on disk."""
        await self.flush()
        self._clear_memory()

        def wipe(conn: sqlite3.Connection) -> None:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")

        await self._call(wipe)

    # -- writes ------------------------------------------------------------------------

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    async def save_run(self, run: Run, *, idempotency: tuple[str, str, str] | None = None) -> None:
        """Persist a run (and, on create, its idempotency key in the same transaction)."""
        self.runs[run.id] = run
        doc, seq, rid = _dumps(run.to_dict()), run.seq, run.id

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT OR REPLACE INTO runs (id, seq, doc) VALUES (?, ?, ?)", (rid, seq, doc))
            if idempotency:
                scope, key, body_hash = idempotency
                conn.execute("INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?)", (scope, key, body_hash, rid))

        await self._call(write)

    async def save_jobs(self, *jobs: Job) -> None:
        rows = []
        for job in jobs:
            self.jobs.setdefault(job.run_id, {})[job.job_id] = job
            rows.append((job.run_id, job.job_id, _dumps(job.to_dict())))
        await self._call(lambda c: c.executemany("INSERT OR REPLACE INTO jobs VALUES (?, ?, ?)", rows))

    async def delete_run(self, run_id: str) -> None:
        self.runs.pop(run_id, None)
        for job_id in self.jobs.pop(run_id, {}):
            for key in [k for k in self.logs if k[0] == run_id and k[1] == job_id]:
                del self.logs[key]
        for aid in [a.id for a in self.approvals.values() if a.run_id == run_id]:
            del self.approvals[aid]
        for key in [k for k, v in self.idempotency.items() if v[1] == run_id]:
            del self.idempotency[key]
        await self.flush()

        def write(conn: sqlite3.Connection) -> None:
            for table, col in (("runs", "id"), ("jobs", "run_id"), ("logs", "run_id"), ("approvals", "run_id"),
                               ("idempotency", "run_id")):
                conn.execute(f"DELETE FROM {table} WHERE {col} = ?", (run_id,))

        await self._call(write)

    def append_log(self, run_id: str, job_id: str, step_index: int, level: str, message: str) -> LogLine:
        """Add a log line now; its write is batched with others on the writer thread."""
        lines = self.logs[(run_id, job_id, step_index)]
        line = LogLine(at=now(), level=level, message=message)
        lines.append(line)
        self._pending_logs.append((run_id, job_id, step_index, len(lines), line.at.isoformat(), level, message))
        if self._log_flush is None or self._log_flush.done():
            self._log_flush = asyncio.ensure_future(self._flush_logs())
        return line

    async def _flush_logs(self) -> None:
        await asyncio.sleep(0)  # let a burst of lines accumulate into one transaction
        rows, self._pending_logs = self._pending_logs, []
        if rows and self._conn is not None:
            await self._call(lambda c: c.executemany("INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?, ?, ?, ?)", rows))

    async def flush(self) -> None:
        """Wait until buffered log lines are on disk."""
        while self._pending_logs or (self._log_flush is not None and not self._log_flush.done()):
            if self._log_flush is None or self._log_flush.done():
                self._log_flush = asyncio.ensure_future(self._flush_logs())
            await asyncio.shield(self._log_flush)

    async def save_approval(self, approval: Approval) -> None:
        self.approvals[approval.id] = approval
        aid, rid, doc = approval.id, approval.run_id, _dumps(approval.to_dict())
        await self._call(lambda c: c.execute("INSERT OR REPLACE INTO approvals VALUES (?, ?, ?)", (aid, rid, doc)))

    async def save_pipeline(self, pipeline: Pipeline, version: PipelineVersion | None = None) -> None:
        key = (pipeline.org_id, pipeline.app_id, pipeline.id)
        self.pipelines[key] = pipeline
        pdoc = _dumps(pipeline.to_dict())
        vrow = None
        if version is not None:
            self.versions[key].append(version)
            vrow = (version.id, version.org_id, version.app_id, version.pipeline_id, len(self.versions[key]),
                    _dumps(version.to_dict()))

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT OR REPLACE INTO pipelines VALUES (?, ?, ?, ?)", (*key, pdoc))
            if vrow:
                conn.execute("INSERT OR REPLACE INTO pipeline_versions VALUES (?, ?, ?, ?, ?, ?)", vrow)

        await self._call(write)

    async def delete_pipeline(self, org_id: str, app_id: str, pipeline_id: str) -> None:
        key = (org_id, app_id, pipeline_id)
        self.pipelines.pop(key, None)
        self.versions.pop(key, None)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM pipelines WHERE org_id=? AND app_id=? AND id=?", key)
            conn.execute("DELETE FROM pipeline_versions WHERE org_id=? AND app_id=? AND pipeline_id=?", key)

        await self._call(write)

    async def save_criteria(self, criteria: Criteria) -> None:
        self.criteria[criteria.id] = criteria
        cid, doc = criteria.id, _dumps(criteria.to_dict())
        await self._call(lambda c: c.execute("INSERT OR REPLACE INTO criteria VALUES (?, ?)", (cid, doc)))

    async def delete_criteria(self, criteria_id: str) -> None:
        self.criteria.pop(criteria_id, None)
        await self._call(lambda c: c.execute("DELETE FROM criteria WHERE id = ?", (criteria_id,)))

    # -- documents (part 2: webhooks, deliveries, events) -----------------------------------

    async def save_doc(self, kind: str, key: str, doc: dict[str, Any]) -> None:
        """Insert or replace one document; a new key is ordered after every existing one."""
        new = key not in self.docs[kind]
        self.docs[kind][key] = doc
        if new:
            self.doc_seq += 1
        seq, text = self.doc_seq, _dumps(doc)

        def write(conn: sqlite3.Connection) -> None:
            if new:
                conn.execute("INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?)", (kind, key, seq, text))
            else:
                conn.execute("UPDATE docs SET doc = ? WHERE kind = ? AND key = ?", (text, kind, key))

        await self._call(write)

    async def delete_docs(self, kind: str, *keys: str) -> None:
        for key in keys:
            self.docs[kind].pop(key, None)
        rows = [(kind, k) for k in keys]
        await self._call(lambda c: c.executemany("DELETE FROM docs WHERE kind = ? AND key = ?", rows))
