"""A local stand-in for the tutorial's hosted Microcks: serves OpenAPI documents by their examples.

Each `mocks/*.yaml` document is served under `/rest/<info.title>/<info.version>`, the base
path Microcks gives an imported API (and the one the tutorial's `baseUri`s carry), so
`naftiko run --upstream '*=http://127.0.0.1:PORT'` reaches every namespace.

A request is answered the way Microcks answers it:

- the operation is found by method and path template (`/ships/{imo_number}`);
- its `x-microcks-operation` dispatcher turns the request into a *dispatch criteria*:
  `URI_PARTS` (`/imo_number=IMO-9321483`), `URI_PARAMS` (`?status=active`), `SCRIPT`
  (only the literal `return '<name>'` form is understood, no Groovy) and `FALLBACK`
  (an inner dispatcher plus the example used when it finds nothing);
- the response is the example of that name, with the status code it is declared under;
  with no dispatcher, the first example of the first 2xx response;
- `{{ request.body/<pointer> }}`, `{{ request.params[name] }}`, `{{ request.headers[name] }}` and
  `{{ request.path }}` in example strings are rendered from the request (Microcks templating);
- no matching example: 400 with Microcks' wording.

Every request is recorded in `MockUpstream.requests` (method, path, query, headers, body).

Standalone: `python -m tests.tutorial.mock_upstream --port 8585 [DIR_OR_FILES...]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from ruamel.yaml import YAML

# shared/ sits beside the repository (as in CI); NAFTIKO_TUTORIAL_DIR points elsewhere.
TUTORIAL_DIR = Path(
    os.environ.get("NAFTIKO_TUTORIAL_DIR") or Path(__file__).resolve().parents[3] / "shared" / "conformance" / "naftiko-tutorial"
)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")


@dataclass
class Example:
    status: int
    media_type: str
    value: Any


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    dispatcher: str | None
    rules: str | None
    fallback: str | None
    examples: dict[str, Example]
    default: Example | None

    def criteria(self, path_params: dict[str, str], query: dict[str, str]) -> str | None:
        return _criteria(self.dispatcher, self.rules, path_params, query)

    def choose(self, path_params: dict[str, str], query: dict[str, str]) -> Example | None:
        if self.dispatcher is None:
            return self.default
        key = self.criteria(path_params, query)
        if key is not None and key in self.examples:
            return self.examples[key]
        if self.fallback is not None:
            return self.examples.get(self.fallback)
        return None


def _criteria(dispatcher: str | None, rules: str | None, path_params: dict[str, str], query: dict[str, str]) -> str | None:
    names = [n.strip() for n in re.split(r"&&|,", rules or "") if n.strip()]
    if dispatcher == "URI_PARTS":
        parts = [f"{n}={path_params[n]}" for n in names if n in path_params]
        return "/" + "/".join(parts) if parts else None
    if dispatcher in ("URI_PARAMS", "QUERY_ARGS"):
        parts = [f"{n}={query[n]}" for n in names if n in query]
        return "?" + "&".join(parts) if parts else None
    if dispatcher == "URI_ELEMENTS":
        head = [f"{n}={path_params[n]}" for n in path_params]
        tail = [f"{n}={query[n]}" for n in names if n in query]
        return ("/" + "/".join(head) if head else "") + ("?" + "&".join(tail) if tail else "")
    if dispatcher == "SCRIPT":
        literal = re.fullmatch(r"\s*return\s+['\"]([^'\"]*)['\"]\s*;?\s*", rules or "")
        return literal.group(1) if literal else None
    return None


def _path_regex(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in re.finditer(r"\{([^}/]+)\}", template):
        out.append(re.escape(template[pos:m.start()]))
        out.append(f"(?P<{_group(m.group(1))}>[^/]+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "/?$")


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


def _operation(method: str, template: str, spec: dict[str, Any]) -> Operation:
    dispatch = spec.get("x-microcks-operation") or {}
    dispatcher, rules, fallback = dispatch.get("dispatcher"), dispatch.get("dispatcherRules"), None
    if dispatcher == "FALLBACK":
        inner = json.loads(rules or "{}")
        dispatcher, rules, fallback = inner.get("dispatcher"), inner.get("dispatcherRules"), inner.get("fallback")
    examples: dict[str, Example] = {}
    default: Example | None = None
    for code, response in sorted((spec.get("responses") or {}).items(), key=lambda kv: str(kv[0])):
        status = int(code) if str(code).isdigit() else 200
        for media_type, content in ((response or {}).get("content") or {}).items():
            for name, example in ((content or {}).get("examples") or {}).items():
                ex = Example(status, media_type, (example or {}).get("value"))
                examples.setdefault(str(name), ex)
                if default is None and 200 <= status < 300:
                    default = ex
    return Operation(method.upper(), template, _path_regex(template), dispatcher, rules, fallback, examples, default)


@dataclass
class Api:
    title: str
    version: str
    operations: list[Operation]

    @property
    def base(self) -> str:
        return f"/rest/{quote(self.title)}/{quote(self.version)}"


def load_api(path: Path) -> Api:
    doc = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    info = doc.get("info") or {}
    ops = [
        _operation(method, template, spec)
        for template, item in (doc.get("paths") or {}).items()
        for method, spec in (item or {}).items()
        if method in METHODS and isinstance(spec, dict)
    ]
    return Api(str(info.get("title", path.stem)), str(info.get("version", "1.0")), ops)


def _pointer(data: Any, pointer: str) -> Any:
    node = data
    for part in [p for p in pointer.split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


def _render(value: Any, request: RecordedRequest, path_params: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _render(v, request, path_params) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, request, path_params) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value

    def one(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("request.body"):
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                return m.group(0)
            found = _pointer(body, expr[len("request.body"):])
            if found is None:
                return ""
            return found if isinstance(found, str) else json.dumps(found)
        params = re.fullmatch(r"request\.params\[['\"]?([^\]'\"]+)['\"]?\]", expr)
        if params:
            return request.query.get(params.group(1), path_params.get(params.group(1), ""))
        headers = re.fullmatch(r"request\.headers\[['\"]?([^\]'\"]+)['\"]?\]", expr)
        if headers:
            wanted = headers.group(1).casefold()
            return next((v for k, v in request.headers.items() if k.casefold() == wanted), "")
        if expr == "request.path":
            return request.path
        return m.group(0)

    return TEMPLATE.sub(one, value)


@dataclass
class MockUpstream:
    """The aiohttp app serving some OpenAPI documents; `requests` records what it received."""

    apis: list[Api]
    requests: list[RecordedRequest] = field(default_factory=list)

    @classmethod
    def from_paths(cls, paths: list[Path] | None = None) -> MockUpstream:
        files: list[Path] = []
        for p in paths or [TUTORIAL_DIR / "mocks"]:
            files += sorted(p.glob("*.y*ml")) + sorted(p.glob("*.json")) if p.is_dir() else [p]
        return cls([load_api(f) for f in files])

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        recorded = RecordedRequest(request.method, request.path, dict(request.query), dict(request.headers), body)
        self.requests.append(recorded)
        for api in self.apis:
            base = f"/rest/{api.title}/{api.version}"
            if request.path != base and not request.path.startswith(base + "/"):
                continue
            rest = "/" + request.path[len(base):].lstrip("/")
            for op in api.operations:
                if op.method != request.method:
                    continue
                m = op.pattern.match(rest)
                if m is None:
                    continue
                names = re.findall(r"\{([^}/]+)\}", op.template)
                path_params = {n: m.group(_group(n)) for n in names}
                example = op.choose(path_params, recorded.query)
                if example is None:
                    criteria = op.criteria(path_params, recorded.query)
                    return web.Response(
                        status=400,
                        text=f"The response {criteria} does not exist!",
                        content_type="text/plain",
                    )
                value = _render(example.value, recorded, path_params)
                if isinstance(value, str) and not example.media_type.endswith("json"):
                    return web.Response(status=example.status, text=value, content_type=example.media_type)
                return web.Response(status=example.status, text=json.dumps(value), content_type=example.media_type)
            return web.Response(status=404, text=f"no operation for {request.method} {rest} in {api.title}", content_type="text/plain")
        return web.Response(status=404, text=f"no API is served under {request.path}", content_type="text/plain")


class MockServer:
    """Serves a MockUpstream on 127.0.0.1 from a background thread (for synchronous tests)."""

    def __init__(self, mock: MockUpstream | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mock = mock or MockUpstream.from_paths()
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mock-upstream", daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.mock.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def start(self) -> MockServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve OpenAPI documents by their examples, as Microcks does.")
    parser.add_argument("paths", nargs="*", type=Path, help=f"OpenAPI files or folders (default: {TUTORIAL_DIR / 'mocks'})")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8585)
    args = parser.parse_args()
    mock = MockUpstream.from_paths(args.paths or None)
    for api in mock.apis:
        print(f"http://{args.host}:{args.port}{api.base}  ({len(api.operations)} operations)", flush=True)
    web.run_app(mock.app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
