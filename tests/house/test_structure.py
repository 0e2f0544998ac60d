"""The house rules of `naftiko_runtime/` (issue 17), checked on the source itself.

Small modules; no import cycle; no import from a layer above; the engine knows nothing of the
runtime; no method replaced on a live object. Import edges are read with ``ast`` and
TYPE_CHECKING imports count (a cycle there is still a cycle in the design).
"""

from __future__ import annotations

import ast
import re
from types import ModuleType

import pytest

import naftiko_runtime
from tests.support.imports import PKG, ROOT, cycles, graph, module_name

MAX_LINES = 400

#: The layers, lowest first; a module may import its own layer and those below it, never above.
#: Shared utilities (errors, limits, logs, ...) form the floor every layer may use.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("utilities", ("errors", "jsonfast", "limits", "logs", "observability", "traces", "version")),
    ("capability", ("capability", "expressions")),
    ("binding", ("binding",)),
    ("invoke", ("invoke", "stack", "metrics", "tracing")),  # the middleware stack and the layers it composes
    ("exposes", ("exposes", "inspection")),
    ("runtime", ("runtime",)),
    ("cli", ("cli", "__main__")),
]


def layer_of(module: str) -> int | None:
    """The layer index of a package module; None for the package root and the engine."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    top = parts[1]
    for i, (_, tops) in enumerate(LAYERS):
        if top in tops:
            return i
    return None


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_top_level_room_has_a_layer() -> None:
    tops = {module_name(p).split(".")[1] for p in ROOT.rglob("*.py") if p != ROOT / "__init__.py"}
    placed = {t for _, ts in LAYERS for t in ts} | {"engine"}
    assert tops - placed == set(), "place the new room in LAYERS"


def test_no_import_from_a_layer_above() -> None:
    upward = []
    for module, targets in graph().items():
        mine = layer_of(module)
        if mine is None:
            continue
        for target in sorted(targets):
            theirs = layer_of(target)
            if theirs is not None and theirs > mine:
                upward.append(f"{module} ({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]})")
    assert upward == []


def test_the_engine_imports_nothing_of_the_runtime() -> None:
    leaks = [
        f"{module} imports {target}"
        for module, targets in graph().items() if module.startswith(f"{PKG}.engine")
        for target in sorted(targets) if not target.startswith(f"{PKG}.engine") and target != PKG
    ]
    assert leaks == []


# `setattr(obj, ...)` on an object other than `self`, or an assignment mypy calls method-assign, is how
# a method gets replaced at run time.
_REPLACED = re.compile(r"#\s*type:\s*ignore\[[^\]]*method-assign")


def replaced_methods(text: str) -> list[int]:
    """Lines assigning a function (a lambda, a def of the module, another object's same-named method)
    to an attribute of an object other than `self`: a method replaced on a live object."""
    tree = ast.parse(text)
    defs = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if not isinstance(target, ast.Attribute) or (isinstance(target.value, ast.Name) and target.value.id == "self"):
                continue
            value = node.value
            if (isinstance(value, ast.Lambda) or (isinstance(value, ast.Name) and value.id in defs)
                    # `a.server.run = other.run`: a held object's method copied from another one
                    or (isinstance(value, ast.Attribute) and value.attr == target.attr
                        and isinstance(target.value, ast.Attribute))):
                out.append(node.lineno)
    return out


def test_the_replaced_method_finder_finds_one() -> None:
    assert replaced_methods("def f(s, new):\n    s.server.get_schema = new.get_schema\n    s.x = lambda: 1\n") == [2, 3]
    assert replaced_methods("def f(self, s, b):\n    self.run = s.run\n    s.count = 2\n    b.body = s.body\n") == []


def test_no_method_is_replaced_on_a_live_object() -> None:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text()
        rel = path.relative_to(ROOT)
        found += [f"{rel}:{lineno}: method replaced" for lineno in replaced_methods(text)]
        for lineno, line in enumerate(text.splitlines(), 1):
            if _REPLACED.search(line):
                found.append(f"{rel}:{lineno}: {line.strip()}")
        for node in ast.walk(ast.parse(text)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                    and not (node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "self")):
                found.append(f"{rel}:{node.lineno}: setattr(...)")
    assert found == []


@pytest.mark.parametrize("name", naftiko_runtime.__all__)
def test_every_public_name_imports(name: str) -> None:
    assert getattr(naftiko_runtime, name) is not None


def test_the_public_api_is_what_the_readme_documents() -> None:
    readme = (ROOT.parent / "README.md").read_text()
    section = readme.split("## Library use", 1)[1].split("\n## ", 1)[0]
    named = {n for n in re.findall(r"`(\w+)`", section) if not n.startswith("__")}
    documented = {n for n in named if hasattr(naftiko_runtime, n) and not isinstance(getattr(naftiko_runtime, n), ModuleType)}
    assert documented == set(naftiko_runtime.__all__) - {"__version__"}
