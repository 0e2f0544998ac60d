"""Every third-party module the package imports is a declared dependency (not just one that
another dependency happens to pull in today)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.support.paths import ROOT

#: Imported only when present, behind an ImportError fallback (cli.py: NAFTIKO_UVLOOP=1).
OPTIONAL = {"uvloop"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "naftiko_runtime").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"naftiko_runtime", "__future__"} - OPTIONAL


def test_every_imported_distribution_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["otel"] + project["optional-dependencies"]["fast"]
    declared = {_canonical(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}
    owners = packages_distributions()
    undeclared = {}
    for module in sorted(_imported_modules()):
        dists = {_canonical(d) for d in owners.get(module, [module])}
        if not dists & declared:
            undeclared[module] = sorted(dists)
    assert undeclared == {}, f"imported but not in pyproject.toml dependencies: {undeclared}"


def test_the_mcp_sdk_is_pinned_to_its_minor_version() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "mcp>=2.3,<2.4" in dependencies
