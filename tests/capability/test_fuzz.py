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
