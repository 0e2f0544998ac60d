"""The two schema backends (jsonschema-rs, the default, and python-jsonschema, the fallback) report the
same issues, in the same order, with the same keyword, fields and owner: on every corpus file, the
seeds, the shipped files, and a few hundred deterministic mutations of them (wrong types, missing and
unknown keys), so that oneOf/anyOf resolution, propertyNames, `not` and if/then are all exercised."""

from __future__ import annotations

import copy
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from naftiko_runtime.capability import schema as schema_module
from naftiko_runtime.capability.schema import check_schema
from naftiko_runtime.capability.yaml_source import parse_yaml
from tests.support.paths import CORPUS, SEEDS, SHIPPED

needs_shared = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared (corpus, seeds) not available")


def _full(document: Any, backend: str) -> list[tuple[Any, ...]]:
    return [(i.path, i.message, i.deviation, i.keyword, i.fields, i.owner) for i in check_schema(document, backend=backend)]


def _by_path(issues: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    # A stable sort by path: issues at one path keep their order, which is what reaches the user (the
    # loader orders diagnostics by position). Across paths python-jsonschema's order is not even its
    # own: it walks the extra keys of an `additionalProperties` schema as a set, in hash order.
    return sorted(issues, key=lambda issue: [(isinstance(p, int), str(p)) for p in issue[0]])


def _assert_same(name: str, document: Any) -> int:
    fast, slow = _full(document, "jsonschema-rs"), _full(document, "jsonschema")
    assert _by_path(fast) == _by_path(slow), name
    return len(fast)


def _seed_documents() -> list[tuple[str, Any]]:
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        start = next((i for i, line in enumerate(lines) if line.rstrip().endswith("Raw ↑")), None)
        if start is not None:
            out.append((path.name, YAML(typ="safe", pure=True).load("\n".join(lines[start + 1:]) + "\n")))
    return out


@needs_shared
def test_both_backends_agree_on_the_corpus_and_the_seeds() -> None:
    files = sorted(CORPUS.rglob("*.yaml"))
    documents = [(str(f), parse_yaml(f.read_text(), str(f)).data) for f in files]
    documents += _seed_documents() + [(str(f), parse_yaml(f.read_text(), str(f)).data) for f in SHIPPED]
    issues = sum(_assert_same(name, document) for name, document in documents)
    assert len(documents) >= 250 + 3
    assert issues > 1000  # real files deviate a lot: the comparison is not between empty lists


def _nodes(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _nodes(value, path + (key,))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _nodes(value, path + (index,))
    return found


def _mutate(document: Any, path: tuple[Any, ...], how: int) -> Any:
    mutated = copy.deepcopy(document)
    parent = mutated
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    target = parent[last]
    if how == 0:  # a wrong type
        parent[last] = 7 if isinstance(target, str) else "text"
    elif how == 1 and isinstance(parent, dict):  # a missing key
        del parent[last]
    elif how == 2 and isinstance(target, dict):  # unknown and wrongly named keys
        target["unknownField"] = True
        target["Bad Key"] = {"x": 1}
    elif how == 3 and isinstance(target, dict):  # every alternative's discriminators at once
        target.update({"call": "a.b", "steps": [], "location": "file:///x", "ref": "y"})
    else:
        parent[last] = None
    return mutated


def test_both_backends_agree_on_mutated_documents() -> None:
    rng = random.Random(19)
    bases = [(str(f), parse_yaml(f.read_text(), str(f)).data) for f in SHIPPED] + _seed_documents()
    count = 0
    for name, base in bases:
        nodes = _nodes(base)[1:]
        for path in rng.sample(nodes, min(25, len(nodes))):
            for how in range(5):
                _assert_same(f"{name} {path} #{how}", _mutate(base, path, how))
                count += 1
    assert count > 300


def test_values_json_cannot_hold_are_checked_by_python_jsonschema() -> None:
    # Our YAML reader never makes them, but check_schema is public: a date, bytes, an integer key.
    import datetime

    document = {"naftiko": "1.0.0-alpha2", 5: 1, "info": {"label": b"x", "created": datetime.date(2024, 1, 1)}}
    assert _full(document, "jsonschema-rs") == _full(document, "jsonschema")
    assert any("got date" in issue[1] for issue in _full(document, "jsonschema-rs"))


def test_the_backend_is_chosen_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        for value, expected in (("", "jsonschema-rs"), ("jsonschema", "jsonschema"), ("jsonschema-rs", "jsonschema-rs")):
            schema_module.schema_backend.cache_clear()
            monkeypatch.setenv("NAFTIKO_SCHEMA_BACKEND", value)
            assert schema_module.schema_backend() == expected
        schema_module.schema_backend.cache_clear()
        monkeypatch.setenv("NAFTIKO_SCHEMA_BACKEND", "fastjsonschema")
        with pytest.raises(ValueError, match="expected one of jsonschema-rs, jsonschema"):
            check_schema({"naftiko": "1.0.0-alpha2"})
    finally:
        schema_module.schema_backend.cache_clear()


def test_the_cli_refuses_an_unknown_backend_in_one_line(tmp_path: Path) -> None:
    file = tmp_path / "a.yaml"
    file.write_text("naftiko: 1.0.0-alpha2\n")
    out = subprocess.run([sys.executable, "-m", "naftiko_runtime", "validate", str(file)], check=False, capture_output=True,
                         text=True,
                         env={"PATH": "/usr/bin:/bin", "NAFTIKO_SCHEMA_BACKEND": "nope"})
    assert out.returncode == 2
    assert "NAFTIKO_SCHEMA_BACKEND='nope'" in out.stderr and "Traceback" not in out.stderr


def test_naftiko_run_checks_with_python_jsonschema_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: a server checks its files once; the compiled validator would stay resident for it."""
    try:
        for value, expected in (("", "jsonschema"), ("jsonschema", "jsonschema"), ("jsonschema-rs", "jsonschema-rs")):
            schema_module.schema_backend.cache_clear()
            monkeypatch.setenv("NAFTIKO_SCHEMA_BACKEND", value)
            assert schema_module.serving_backend() == expected
    finally:
        schema_module.schema_backend.cache_clear()
