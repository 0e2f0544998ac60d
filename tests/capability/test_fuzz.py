"""Property-based: mutated seed files always get a verdict with locations, never an exception or a hang."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naftiko_runtime.capability.loader import load
from tests.support.paths import SEEDED

TEXTS = [p.read_text() for p in SEEDED]
JUNK = st.sampled_from(["\t", ":", "- ", "{", "}", "[", "]", "&a", "*a", "!!int", "'", '"', "\x00", "\n  ", "~", "{{", "é", "\ufeff", "? "])


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "replace", "truncate", "indent", "dedent"]))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if not lines:
            break
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            line = lines[i]
            at = draw(st.integers(0, len(line)))
            lines[i] = line[:at] + draw(JUNK) + line[at:]
        elif op == "replace":
            lines[i] = draw(st.text(max_size=40)) + "\n"
        elif op == "truncate":
            lines = lines[: i + 1]
        elif op == "indent":
            lines[i] = "  " + lines[i]
        else:
            lines[i] = lines[i].lstrip()
    return "".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated())
def test_mutations_get_a_located_verdict(tmp_path_factory, text: str) -> None:  # type: ignore[no-untyped-def]
    path: Path = tmp_path_factory.mktemp("fuzz") / "cap.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass") if "\ud800" not in text else path.write_bytes(text.encode("utf-8", "replace"))
    result = load(path)
    for d in result.diagnostics:
        assert d.file == str(path)
        assert d.line >= 0 and d.col >= 0
        assert d.message and "Traceback" not in d.message
    if not result.ok:
        assert result.errors, "an unusable file names at least one error"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated())
def test_mutations_are_served_around_their_broken_parts(tmp_path_factory, text: str) -> None:  # type: ignore[no-untyped-def]
    """At the default level a mutated file either is refused with a located reason or is planned and its
    adapters built; every disabled route or tool answers 503 `operation_disabled`, never a traceback."""
    import asyncio

    from naftiko_runtime.capability.model import McpAdapter, RestAdapter
    from naftiko_runtime.errors import InvokeError
    from naftiko_runtime.exposes.mcp.server import build_server
    from naftiko_runtime.exposes.rest.app import Mounted, RouteConflict, build_routes
    from naftiko_runtime.invoke.invoker import Invoker
    from naftiko_runtime.runtime import RunOptions, StartupError
    from naftiko_runtime.runtime.plan import plan_file

    path: Path = tmp_path_factory.mktemp("fuzz") / "cap.yaml"
    path.write_bytes(text.encode("utf-8", "replace"))
    try:
        entry = plan_file(path, RunOptions(files=[path]))
    except StartupError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    for part in entry.capability.disabled:
        assert part.where.file == str(path) and part.reason

    async def serve() -> None:
        from naftiko_runtime.binding.incoming import Incoming
        from naftiko_runtime.invoke.client import UpstreamPool, UpstreamSettings

        pool = UpstreamPool(UpstreamSettings())
        try:
            invoker = Invoker(entry.capability, entry.binds, pool, {"*": "http://127.0.0.1:9"})
            rest = [Mounted(a, invoker) for a in entry.capability.adapters if isinstance(a, RestAdapter)]
            try:
                build_routes(rest, _ready)
            except RouteConflict as exc:  # two routes of one shape: a refusal of its own, with both locations
                assert "collides" in str(exc)
            actions = [op.action for a in entry.capability.adapters if isinstance(a, RestAdapter) for r in a.resources for op in r.operations]
            for adapter in entry.capability.adapters:
                if isinstance(adapter, McpAdapter):
                    build_server(adapter, invoker)
                    actions += adapter.tools
            for action in actions:
                if action.broken:
                    try:
                        await invoker.invoke(action, Incoming(values={}, origin="cli"))
                    except InvokeError as exc:
                        assert exc.status == 503 and exc.error == "operation_disabled" and str(path) in exc.message
                    else:
                        raise AssertionError(f"disabled '{action.name}' was invoked")
        finally:
            await pool.close()

    asyncio.run(serve())


async def _ready() -> tuple[bool, dict]:  # type: ignore[type-arg]
    return True, {}
