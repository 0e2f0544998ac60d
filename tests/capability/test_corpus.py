"""Every published capability file in the corpus gets a verdict, and at least 95% are valid at the default level."""

from __future__ import annotations

from naftiko_runtime.capability.loader import load
from tests.support.paths import CORPUS

FILES = sorted(CORPUS.rglob("*.yaml"))


def test_corpus_verdicts() -> None:
    assert len(FILES) >= 200
    failures = []
    for path in FILES:
        result = load(path)
        for d in result.diagnostics:
            assert d.line >= 0 and d.message, d
        if not result.ok:
            failures.append((path.relative_to(CORPUS), result.errors[0]))
    passed = len(FILES) - len(failures)
    print(f"\n{passed}/{len(FILES)} corpus files valid at the default level ({passed / len(FILES):.1%}); the others:")
    for name, error in failures:
        print(f"  {name}: {error.line}:{error.col}: {error.message} [{error.field}]")
    assert passed / len(FILES) >= 0.95
