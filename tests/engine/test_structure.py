"""The engine package's shape: small modules, no import cycles, nothing imported from above it.

Import edges are read with ``ast`` (TYPE_CHECKING imports count: a cycle there is still a
cycle in the design).
"""

from __future__ import annotations

import ast
from pathlib import Path

import naftiko_runtime.engine as engine_pkg

ROOT = Path(engine_pkg.__file__).parent
PKG = "naftiko_runtime.engine"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join([PKG, *parts])


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Engine modules imported by ``path`` (``from . import x`` resolves to the submodule x)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    files = sorted(ROOT.rglob("*.py"))
    modules = {_module_name(p) for p in files}
    return {_module_name(p): _imports(p, modules) for p in files}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _ignoring_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package ``__init__`` re-exporting its submodules is not a cycle of design."""
    return {m: {d for d in deps if not graph.get(d) or m not in graph[d] or not _is_init(d, m)}
            for m, deps in graph.items()}


def _is_init(pkg: str, member: str) -> bool:
    return member.startswith(pkg + ".")


def test_engine_modules_are_at_most_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_engine_has_no_import_cycles() -> None:
    assert _cycles(_ignoring_package_inits(_graph())) == []


def test_actions_do_not_import_the_executor_or_the_service() -> None:
    graph = _graph()
    for module, deps in graph.items():
        if module.startswith(f"{PKG}.actions"):
            assert not deps & {f"{PKG}.executor", f"{PKG}.service"}, module


def test_engine_imports_nothing_from_the_runtime_above_it() -> None:
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                assert not (node.module.startswith("naftiko_runtime") and not node.module.startswith(PKG)), path
            if isinstance(node, ast.ImportFrom) and node.level > 2:
                raise AssertionError(f"{path}: relative import leaves the engine package")
