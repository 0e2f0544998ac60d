"""Serve each capability file the way `naftiko run --live --upstream '*=URL'` does, probe every exposed
REST operation and MCP tool once, and record which upstream request each probe caused.

Everything runs on one event loop: one recording upstream for all files; per file the runtime's
own `Runtime` is started in-process (REST on port 0; MCP tools through the SDK's in-memory
client against the server object `naftiko run` would serve) and stopped again.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web
from mcp.client import Client

from naftiko_runtime.capability.model import RestAdapter
from naftiko_runtime.exposes.mcp.server import build_server
from naftiko_runtime.exposes.rest.openapi import build_openapi
from naftiko_runtime.logs import LOGGER
from naftiko_runtime.runtime import RunOptions, Runtime

from ..support.recording_upstream import RecordingUpstream
from .expect import BODY_METHODS, PLACEHOLDER, Consumes, ExpectedCall, sample

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Probe:
    file: str
    adapter: str  # rest | mcp
    name: str
    expected: list[ExpectedCall]
    got: list[tuple[str, str]] = field(default_factory=list)
    answer: str = ""  # what the caller got back, when no right upstream request was made
    routed: bool = False
    defect: str | None = None  # what in the file itself makes this probe unroutable, seen from the YAML

    @property
    def reason(self) -> str:
        if self.answer.startswith("file does not start"):
            return "file does not start"
        if self.defect:
            return self.defect
        problems = [c.problem for c in self.expected if c.problem]
        if problems:
            return problems[0]
        if not self.got:
            return f"no upstream request; caller got {self.answer}"
        want = {(a.method, a.shown) for c in self.expected for a in c.alternatives}
        if any(m == w[0] for m, _ in self.got for w in want):
            return "wrong upstream path"
        return "wrong upstream method"

    def line(self) -> str:
        want = " | ".join(f"{a.method} {a.shown}" for c in self.expected for a in c.alternatives) or "-"
        got = ", ".join(f"{m} {p}" for m, p in self.got) or "-"
        return f"{self.file} [{self.adapter}] {self.name}: expected {want}; got {got}; reason: {self.reason}"


@dataclass
class FileResult:
    file: str
    start_error: str | None = None
    probes: list[Probe] = field(default_factory=list)
    mocks: int = 0  # operations/tools with no call: nothing to route


@dataclass
class Report:
    files: list[FileResult]
    seconds: float

    def probes(self, adapter: str) -> list[Probe]:
        return [p for f in self.files for p in f.probes if p.adapter == adapter]

    def ratio(self, adapter: str) -> float:
        probes = self.probes(adapter)
        return sum(p.routed for p in probes) / len(probes) if probes else 1.0

    @property
    def not_started(self) -> list[FileResult]:
        return [f for f in self.files if f.start_error is not None]

    def summary(self) -> str:
        lines = []
        for adapter in ("rest", "mcp"):
            probes = self.probes(adapter)
            routed = sum(p.routed for p in probes)
            lines.append(f"{adapter}: {routed}/{len(probes)} routed ({self.ratio(adapter):.1%})")
        lines.append(f"files not starting: {len(self.not_started)}/{len(self.files)}; {self.seconds:.1f}s")
        return "\n".join(lines)

    def misses(self) -> str:
        lines = [f"{f.file}: does not start: {_first(f.start_error)}" for f in self.not_started]
        lines += [p.line() for f in self.files if f.start_error is None for p in f.probes if not p.routed]
        return "\n".join(lines)

    def start_classes(self) -> str:
        return _start_classes(self)

    def classes(self, top: int = 15) -> str:
        """Misses grouped by reason with names and numbers blurred out, most frequent first."""
        counts: dict[str, int] = {}
        for f in self.not_started:
            key = "start: " + _blur(f.start_error or "")
            counts[key] = counts.get(key, 0) + 1
            for adapter in ("rest", "mcp"):
                lost = sum(p.adapter == adapter for p in f.probes)
                if lost:
                    key = f"{adapter}: file does not start"
                    counts[key] = counts.get(key, 0) + lost
        for p in (p for f in self.files if f.start_error is None for p in f.probes if not p.routed):
            key = f"{p.adapter}: " + _blur(p.reason)
            counts[key] = counts.get(key, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
        return "\n".join(f"{n:5d}  {k}" for k, v in [(k, v) for k, v in ranked] for n in [v])


def _start_classes(report: Report) -> str:
    """Files not starting, by reason, with the probes each reason takes down."""
    agg: dict[str, list[Any]] = {}
    for f in report.not_started:
        entry = agg.setdefault(_blur(f.start_error or ""), [0, 0, 0, f.file])
        entry[0] += 1
        entry[1] += sum(p.adapter == "rest" for p in f.probes)
        entry[2] += sum(p.adapter == "mcp" for p in f.probes)
    ranked = sorted(agg.items(), key=lambda kv: -(kv[1][1] + kv[1][2]))
    return "\n".join(f"{n:3d} files {r:4d} REST {m:4d} MCP  {k[:100]} (e.g. {e})" for k, (n, r, m, e) in ranked)


def _first(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    more = f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else ""
    return (lines[0] if lines else "") + more


def _blur(text: str) -> str:
    text = text.splitlines()[0] if text else ""
    text = re.sub(r"^(no upstream request; caller got \d+) \{.*?\"message\": \"(.*?)\".*$", r"\1 \2", text)
    text = re.sub(r"^\S+\.ya?ml(:\d+(:\d+)?)?:?\s*", "", text)
    text = re.sub(r"\s(for|of)\s[A-Z]+\s/\S*", "", text)  # the operation a message names
    text = re.sub(r"(/work|/tmp)/\S+", "FILE", text)
    text = re.sub(r"https?://\S+", "URL", text)
    text = re.sub(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD) /\S*", r"\1 PATH", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "'…'", text)
    text = re.sub(r"\d+", "N", text)
    return text[:140]


class CatchAll(RecordingUpstream):
    """The recording upstream, answering 200 `{}` to anything (routing is what is measured)."""

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path, _, query_string = request.raw_path.partition("?")
        body = await request.read()
        from ..support.recording_upstream import Recorded

        self.requests.append(Recorded(request.method, path, query_string, list(request.query.items()), request.headers.copy(), body))  # type: ignore[arg-type]
        return web.json_response({})


def _bind_env(doc: dict[str, Any]) -> dict[str, str]:
    """A value for every bind key, as a user who set their credentials would have."""
    env: dict[str, str] = {}
    for bind in doc.get("binds") or []:
        if isinstance(bind, dict):
            for key, var in (bind.get("keys") or {}).items():
                for name in (key, var):
                    if isinstance(name, str):
                        env[name] = _plausible(name)
    return env


def _plausible(name: str) -> str:
    """A secret or setting value of the kind its name announces (a base URL must parse as one)."""
    upper = name.upper()
    if upper.endswith(("URL", "URI", "BASE", "ENDPOINT")):
        return "https://api.example.com"
    if upper.endswith(("HOST", "DOMAIN", "HOSTNAME")):
        return "api.example.com"
    if upper.endswith("PORT"):
        return "443"
    return f"test-{name.lower()}"


def _caller_auth(adapter: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    """Credentials a caller who knows the file's expected secret would send to an exposed adapter."""
    auth = adapter.get("authentication") or adapter.get("auth")
    if not isinstance(auth, dict):
        return {}

    def fill(value: Any) -> str:
        return PLACEHOLDER.sub(lambda m: env.get((m.group(1) or m.group(2)).strip().split(".")[-1], ""), str(value or ""))

    kind = str(auth.get("type", "")).lower()
    if kind == "bearer":
        return {"Authorization": f"Bearer {fill(auth.get('token'))}"}
    if kind == "basic":
        pair = f"{fill(auth.get('username'))}:{fill(auth.get('password'))}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    if kind == "apikey" and auth.get("key") and str(auth.get("placement", auth.get("in", "header"))) == "header":
        return {str(auth["key"]): fill(auth.get("value"))}
    return {}


def _calls(op: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The upstream calls an exposed operation or tool makes: its `call`, or its call steps."""
    calls = []
    call = op.get("call")
    if isinstance(call, str):
        calls.append((call, dict(op.get("with") or {})))
    elif isinstance(call, dict) and isinstance(call.get("operation"), str):
        calls.append((call["operation"], dict(call.get("with") or op.get("with") or {})))
    for step in op.get("steps") or []:
        if isinstance(step, dict) and isinstance(step.get("call"), str):
            calls.append((step["call"], dict(step.get("with") or {})))
    return calls


def _exported(runtime: Runtime) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Each exposed REST operation as `naftiko export openapi` describes it, by (namespace, METHOD, path as written)."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in runtime.plan.entries:
        document = build_openapi(entry.capability)
        for adapter in entry.capability.adapters:
            if not isinstance(adapter, RestAdapter):
                continue
            for resource in adapter.resources:
                for op in resource.operations:
                    route = op.path or resource.path
                    spec = (document["paths"].get(route.route) or {}).get(op.method.lower())
                    if spec is not None:
                        out.setdefault((adapter.namespace, op.method.upper(), route.raw), spec)
    return out


def unserved(doc: dict[str, Any], label: str, why: str, base_dir: Path) -> list[Probe]:
    """The probes of a file that does not start: every operation and tool with a call is a miss."""
    probes = []
    consumes = Consumes(doc, base_dir)
    for adapter in ((doc.get("capability") or {}).get("exposes") or []):
        if not isinstance(adapter, dict) or adapter.get("type") not in ("rest", "mcp"):
            continue
        if adapter["type"] == "rest":
            ops = [(f"{o.get('method', 'GET')} {r.get('path')} ({o.get('name')})", o) for r in adapter.get("resources") or []
                   if isinstance(r, dict) for o in r.get("operations") or [] if isinstance(o, dict)]
        else:
            ops = [(str(t.get("name")), t) for t in adapter.get("tools") or [] if isinstance(t, dict)]
        for name, op in ops:
            calls = _calls(op)
            if calls:
                expected = [consumes.expect(target, {}, with_, ()) for target, with_ in calls]
                probes.append(Probe(label, adapter["type"], name, expected, answer=f"file does not start: {_first(why)}"))
    return probes


class Harness:
    def __init__(self, upstream: CatchAll, session: aiohttp.ClientSession) -> None:
        self.upstream = upstream
        self.session = session

    async def run_file(self, path: Path, label: str) -> FileResult:
        result = FileResult(label)
        try:
            doc = yaml.load(path.read_text(), Loader=LOADER) or {}
        except Exception as exc:
            result.start_error = f"not YAML: {exc}".splitlines()[0]
            return result
        env = _bind_env(doc)
        options = RunOptions(
            files=[path], rest_port=0, mcp_port=0, skill_port=0, control_port=0, upstreams={"*": self.upstream.url},
            mode="live", stdio=True, engine_port=0, engine_db=":memory:", shutdown_grace=0.2, env=env,
            connect_timeout=2.0, total_timeout=5.0,
        )
        runtime = Runtime(options)
        try:
            try:
                await runtime.start()
            except Exception as exc:
                result.start_error = str(exc).strip() or type(exc).__name__
                result.probes = unserved(doc, label, result.start_error, path.parent)
                return result
            consumes = Consumes(doc, path.parent)
            exposes = [a for a in ((doc.get("capability") or {}).get("exposes") or []) if isinstance(a, dict)]
            exported = _exported(runtime)
            for adapter in exposes:
                if adapter.get("type") == "rest":
                    await self._rest(runtime, adapter, consumes, env, result, exported)
            await self._mcp(runtime, exposes, consumes, result)
        finally:
            await runtime.stop()
        return result

    # -- REST ---------------------------------------------------------------------------
    async def _rest(self, runtime: Runtime, adapter: dict[str, Any], consumes: Consumes, env: dict[str, str],
                    result: FileResult, exported: dict[tuple[str, str, str], dict[str, Any]]) -> None:
        namespace = adapter.get("namespace")
        port = runtime.started.get(("rest", namespace))
        headers_auth = _caller_auth(adapter, env)
        routes: dict[tuple[str, str], str] = {}
        for resource in adapter.get("resources") or []:
            if not isinstance(resource, dict):
                continue
            for index, op in enumerate(resource.get("operations") or []):
                if not isinstance(op, dict):
                    continue
                calls = _calls(op)
                name = f"{op.get('method', 'GET')} {resource.get('path')} ({op.get('name', index)})"
                if not calls:
                    result.mocks += 1
                    continue
                probe = await self._rest_probe(port, resource, op, calls, consumes, namespace, headers_auth, name, result.file,
                                               exported)
                # an exposed path is served without its `#fragment`, which no request carries
                route = (str(op.get("method") or "GET").upper(), str(op.get("path") or resource.get("path")).split("#")[0] or "/")
                first = routes.setdefault(route, str(op.get("name", index)))
                if first != str(op.get("name", index)) and not probe.routed:
                    probe.defect = f"file defect: duplicate route {route[0]} {route[1]} (operation '{first}' is served there)"
                result.probes.append(probe)

    async def _rest_probe(self, port: int | None, resource: dict[str, Any], op: dict[str, Any],
                          calls: list[tuple[str, dict[str, Any]]], consumes: Consumes, namespace: Any,
                          headers_auth: dict[str, str], name: str, file: str,
                          exported: dict[tuple[str, str, str], dict[str, Any]]) -> Probe:
        """What a client generated from `naftiko export openapi` sends: every required path, query and header
        parameter and the request body the exported operation declares; the expectation still comes from the YAML."""
        method = str(op.get("method") or "GET").upper()
        res_path = resource.get("path")
        if isinstance(res_path, str) and res_path and not res_path.startswith("/"):
            res_path = "/" + res_path  # the documented reading: a resource path without '/' is served under '/'
        route = str(op.get("path") or res_path or "/")
        if isinstance(op.get("path"), str) and isinstance(res_path, str):
            from .expect import join_path

            route = join_path(res_path, op["path"])
        route = route.split("#")[0] or "/"  # the documented reading: an exposed `#fragment` is never part of a route
        spec = exported.get((str(namespace), method, route))
        if spec is None:
            probe = Probe(file, "rest", name, [consumes.expect(target, {}, with_, ()) for target, with_ in calls])
            probe.answer = "not in `naftiko export openapi`: a generated client cannot call it"
            return probe
        params = [p for p in spec.get("parameters") or [] if isinstance(p, dict)]
        schemas = {str(p["name"]): p.get("schema") or {} for p in params}
        values: dict[str, Any] = {}
        counter = iter(range(1, 1000))
        url_path = route
        for m in PLACEHOLDER.finditer(route):
            key = (m.group(1) or m.group(2)).strip()
            values[key] = sample(key, schemas.get(key) or {"type": "string"}, next(counter))
            url_path = url_path.replace(m.group(0), str(values[key]), 1)
        query: dict[str, str] = {}
        headers = dict(headers_auth)
        for p in params:
            pname, where = str(p["name"]), str(p.get("in") or "query")
            if where == "path" or not p.get("required") or pname in values:
                continue
            value = sample(pname, p.get("schema") or {}, next(counter))
            values[pname] = value
            text = json.dumps(value) if isinstance(value, (dict, list)) else (str(value).lower() if isinstance(value, bool) else str(value))
            (headers if where == "header" else query)[pname] = text
        body: Any = {}
        request_body = spec.get("requestBody") or {}
        body_schema = ((request_body.get("content") or {}).get("application/json") or {}).get("schema")
        if body_schema is not None:
            body = sample("body", body_schema, next(counter))
            if isinstance(body, dict):
                for key, value in body.items():
                    values.setdefault(key, value)
        prefixes = ("rest.", "tools.", "mcp.", f"{namespace}.")
        expected = [consumes.expect(target, values, with_, prefixes) for target, with_ in calls]
        send_body = method in BODY_METHODS or bool(request_body.get("required"))
        return await self._send(Probe(file, "rest", name, expected), port, method, url_path, query, headers,
                                body if send_body else None)

    async def _send(self, probe: Probe, port: int | None, method: str, url_path: str, query: dict[str, str],
                    headers: dict[str, str], body: Any) -> Probe:
        if port is None:
            probe.answer = "no REST server started for this adapter"
            return probe
        self.upstream.requests.clear()
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if body is not None:
            kwargs["json"] = body
        try:
            async with self.session.request(method, f"http://127.0.0.1:{port}{url_path}", **kwargs) as response:
                text = await response.text()
                probe.answer = f"{response.status} {text[:200]}"
        except Exception as exc:
            probe.answer = f"{type(exc).__name__}: {exc}"
        self._judge(probe)
        return probe

    def _judge(self, probe: Probe) -> None:
        probe.got = [(r.method, r.raw_path) for r in self.upstream.requests]
        if any(c.problem for c in probe.expected):
            return
        probe.routed = all(any(a.matches(m, p) for a in c.alternatives for m, p in probe.got) for c in probe.expected)

    # -- MCP ----------------------------------------------------------------------------
    async def _mcp(self, runtime: Runtime, exposes: list[dict[str, Any]], consumes: Consumes, result: FileResult) -> None:
        raw_tools = {
            (str(a.get("namespace")), str(t.get("name"))): t
            for a in exposes if a.get("type") == "mcp"
            for t in (a.get("tools") or []) if isinstance(t, dict)
        }
        for adapter, invoker in runtime.mcp_adapters():
            async with Client(build_server(adapter, invoker)) as client:
                for tool in (await client.list_tools()).tools:
                    raw = raw_tools.get((adapter.namespace, tool.name), {})
                    calls = _calls(raw)
                    if not calls:
                        result.mocks += 1
                        continue
                    schema = tool.input_schema or {}
                    props = schema.get("properties") or {}
                    arguments = {
                        k: sample(k, props.get(k), i + 1)
                        for i, k in enumerate(schema.get("required") or []) if isinstance(k, str)
                    }
                    prefixes = ("tools.", "mcp.", "rest.", f"{adapter.namespace}.")
                    expected = [consumes.expect(target, arguments, with_, prefixes) for target, with_ in calls]
                    probe = Probe(result.file, "mcp", tool.name, expected)
                    self.upstream.requests.clear()
                    try:
                        answer = await client.call_tool(tool.name, arguments)
                        text = " ".join(getattr(c, "text", "") for c in answer.content)
                        probe.answer = f"{'error' if answer.is_error else 'ok'} {text[:200]}"
                    except Exception as exc:
                        probe.answer = f"{type(exc).__name__}: {exc}"
                    self._judge(probe)
                    result.probes.append(probe)


async def measure(files: list[Path], root: Path) -> Report:
    """Serve and probe every file; the report holds every probe and every start failure."""
    started = time.perf_counter()
    # the runtime's request log, and the servers' own tracebacks of a 500 (the probe records the answer)
    quiet = [LOGGER, logging.getLogger("aiohttp.server"), logging.getLogger("mcp")]
    previous = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.CRITICAL + 1)
    upstream = await CatchAll().start()
    results: list[FileResult] = []
    try:
        timeout = aiohttp.ClientTimeout(total=15)
        # no keep-alive: each file's server stops at once instead of waiting out idle connections
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(force_close=True)) as session:
            harness = Harness(upstream, session)
            for path in files:
                label = str(path.relative_to(root))
                try:
                    results.append(await asyncio.wait_for(harness.run_file(path, label), timeout=60))
                except Exception as exc:
                    results.append(FileResult(label, start_error=f"harness: {type(exc).__name__}: {exc}"))
    finally:
        await upstream.stop()
        for q, level in zip(quiet, previous, strict=True):
            q.setLevel(level)
    return Report(results, time.perf_counter() - started)


def _measure_chunk(files: list[Path], root: Path) -> Report:
    return asyncio.run(measure(files, root))


def measure_in_processes(files: list[Path], root: Path, workers: int = 2) -> Report:
    """`measure` split over worker processes (loading a file is CPU-bound; the files are independent)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    started = time.perf_counter()
    chunks = [files[i::workers] for i in range(workers) if files[i::workers]]
    with ProcessPoolExecutor(len(chunks), mp_context=multiprocessing.get_context("spawn")) as pool:
        reports = list(pool.map(_measure_chunk, chunks, [root] * len(chunks)))
    order = {str(p.relative_to(root)): i for i, p in enumerate(files)}
    merged = sorted((f for r in reports for f in r.files), key=lambda f: order.get(f.file, 0))
    return Report(merged, time.perf_counter() - started)
