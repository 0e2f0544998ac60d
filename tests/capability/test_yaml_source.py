"""The YAML reader: libyaml's event parser is the one in use, it reads exactly what the pure-Python
parser reads, and hostile inputs (deep nesting, huge documents) end in a located error, never a crash."""

from __future__ import annotations

import pytest

from naftiko_runtime.capability import yaml_source
from naftiko_runtime.capability.diagnostics import SpecError
from naftiko_runtime.capability.yaml_source import MAX_DEPTH, MAX_NODES, parse_yaml
from tests.support.paths import CORPUS, SEEDS, SHIPPED, seed_yaml


def test_the_c_event_parser_is_in_use() -> None:
    # ruamel.yaml 0.19 no longer pulls in ruamel.yaml.clib: without it reading is ~8x slower.
    from ruamel.yaml.cyaml import CParser

    assert yaml_source.PARSER == "libyaml"
    assert yaml_source._CParser is CParser


def _samples() -> list[tuple[str, str]]:
    corpus = sorted(CORPUS.rglob("*.yaml"))[::10]
    seeds = [(str(p), seed_yaml(p.name.split("_")[0])) for p in sorted(SEEDS.glob("*.txt"))
             if "naftiko: 1.0.0-alpha2" in p.read_text()]
    return [(str(p), p.read_text()) for p in [*corpus, *SHIPPED]] + seeds


# Broken YAML of several kinds: both parsers report it on the same line (the wording of a syntax
# error is the parser's own: libyaml says "did not find expected ','" where ruamel says "expected ','").
_BROKEN = [
    "a: [1, 2\n", "a: {b: 1\n", "a: b: c\n", "a:\n\t- tab\n", "- a\nb: c\n", "a: 'unclosed\n",
    "a: *nope\n", "a: 1\na: 2\n", "? [a]\n: b\n", "a: 1\n---\nb: 2\n", "a: !!int x\n", "<<: {a: 1}\n",
    "a:\n  - b\n c: d\n", "%TAG ! x\n--- a\n", "a: @x\n", "\"a\": \"\\q\"\n",
]


def _read(name: str, text: str) -> object:
    try:
        doc = parse_yaml(text, name)
    except SpecError as exc:
        return [(d.file, d.line, d.code, d.message if "not valid YAML" not in d.message else "syntax")
                for d in exc.diagnostics]
    return doc.data, doc.source.values, doc.source.keys


def test_libyaml_and_pure_python_read_the_same_data_and_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = _samples() + [(f"broken{i}.yaml", text) for i, text in enumerate(_BROKEN)]
    fast = [_read(name, text) for name, text in samples]
    monkeypatch.setattr(yaml_source, "_CParser", None)
    slow = [_read(name, text) for name, text in samples]
    assert len(samples) > 40
    for (name, text), a, b in zip(samples, fast, slow):
        assert a == b, (name, text[:200])


@pytest.mark.parametrize("opener, closer", [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_deep_nesting_is_refused_before_it_can_hurt(opener: str, closer: str) -> None:
    depth = 200_000
    if opener == "- ":
        text = "".join("  " * i + "-\n" for i in range(2_000))  # block nesting grows the text quadratically
    else:
        text = opener * depth + "x" + closer * depth
    with pytest.raises(SpecError) as info:
        parse_yaml(text, "deep.yaml")
    assert f"nesting deeper than {MAX_DEPTH} levels" in info.value.diagnostics[0].message


def test_huge_inputs_end_in_a_located_error() -> None:
    # A long flat list of scalars: bounded by the node count, not by recursion or memory.
    text = "[" + "1," * (MAX_NODES + 10) + "1]"
    with pytest.raises(SpecError) as info:
        parse_yaml(text, "huge.yaml")
    assert "more than" in info.value.diagnostics[0].message
    # An alias bomb: a few lines that would expand to billions of nodes.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    with pytest.raises(SpecError) as info:
        parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert "alias bomb" in info.value.diagnostics[0].message
    # A single enormous scalar and garbage are errors with a position, not crashes.
    assert parse_yaml("key: " + "x" * 3_000_000 + "\n", "long.yaml").data == {"key": "x" * 3_000_000}
    with pytest.raises(SpecError) as info:
        parse_yaml("a: [\n" + "b: {\n" * 1000, "broken.yaml")
    assert info.value.diagnostics[0].line > 0


def test_upstream_yaml_bodies_never_reach_the_c_composer() -> None:
    # With ruamel.yaml.clib installed, YAML(pure=False).load() recurses in C and kills the process.
    from naftiko_runtime.invoke.formats import FormatError, parse_body

    with pytest.raises(FormatError):
        parse_body(("[" * 100_000 + "]" * 100_000).encode(), "yaml")
    assert parse_body(b"a: [1, {b: c}]\n", "yaml") == {"a": [1, {"b": "c"}]}
