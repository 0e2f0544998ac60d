"""Loading a corpus with the template engine of another commit and with this one, interleaved in one process.

    python -m benchmarks.templates_load [--before d468c64] [--corpus ../shared/corpus] [--rounds 3]

The template module of `--before` (read with `git show`) is imported beside the current one, and the
normaliser's `Template` is switched between them for each timed pass (a benchmark may swap a module
attribute; product code never does). Each round times, in rotating order: the old engine; the new one
with its caches emptied before the pass (one `naftiko validate` over all files); and the new one with
warm caches (a long-lived process reloading). It counts jinja2 compiles, and replays the compiles of
one pass alone (old engine vs new with cold caches), where the loading's other costs do not blur them.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from naftiko_runtime.capability.loader import load
from naftiko_runtime.capability.normalize import values
from naftiko_runtime.expressions import templates as new

ROOT = Path(__file__).resolve().parents[1]


def old_module(rev: str) -> Any:
    source = subprocess.run(["git", "show", f"{rev}:naftiko_runtime/expressions/templates.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_templates.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_templates", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_templates"] = module  # dataclasses look their module up while building the class
    spec.loader.exec_module(module)
    return module


def clear() -> None:
    new._shape.cache_clear()
    new._compile.cache_clear()


def load_all(files: list[Path], template: Any) -> float:
    values.Template = template  # type: ignore[attr-defined]
    start = time.perf_counter()
    for f in files:
        load(f)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="d468c64")
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compile-only", action="store_true", help="only replay the compiles of one pass")
    args = parser.parse_args()
    files = sorted(Path(args.corpus).rglob("*.yaml"))
    old = old_module(args.before)
    if args.compile_only:
        return compile_only(files, old)
    compiles = {"old": 0}
    real_from_string = old._ENV.from_string

    def counting(*a: Any, **k: Any) -> Any:
        compiles["old"] += 1
        return real_from_string(*a, **k)

    old._ENV.from_string = counting
    arms = {
        "old engine": lambda: load_all(files, old.Template),
        "new, cold caches": lambda: (clear(), load_all(files, new.Template))[1],
        "new, warm caches": lambda: load_all(files, new.Template),
    }
    load_all(files, new.Template)  # warm-up: imports, schema, file cache of the OS
    times: dict[str, list[float]] = {name: [] for name in arms}
    names = list(arms)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            times[name].append(arms[name]())
            print(f"  round {r + 1}: {name} {times[name][-1]:.3f} s", flush=True)
    compiles["old"] //= args.rounds
    clear()
    load_all(files, new.Template)
    info = new.shape_cache_info()
    values.Template = new.Template  # type: ignore[attr-defined]
    print(f"{len(files)} files, {args.rounds} rounds interleaved; median (min-max) seconds for all files:")
    for name, ts in times.items():
        print(f"  {name:20s} {statistics.median(ts):.3f} ({min(ts):.3f}-{max(ts):.3f})"
              f"  {1000 * statistics.median(ts) / len(files):.2f} ms/file")
    print(f"jinja2 compiles for all files: old {compiles['old']}, new {info.misses} "
          f"(shape hits {info.hits}; templates compiled by source {new._compile.cache_info().misses})")
    compile_only(files, old)


def compile_only(files: list[Path], old: Any) -> None:
    """The template compiles of loading all files, replayed alone: old engine vs new with cold caches."""
    calls: list[tuple[str, str]] = []

    class Recording:
        @staticmethod
        def compile(source: str, mode: Any = "text") -> Any:
            calls.append((source, mode))
            return new.Template.compile(source, mode)

    load_all(files, Recording)
    values.Template = new.Template  # type: ignore[attr-defined]
    rows: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(5):
        start = time.perf_counter()
        for source, mode in calls:
            old.Template.compile(source, mode)
        rows["old"].append(time.perf_counter() - start)
        clear()
        start = time.perf_counter()
        for source, mode in calls:
            new.Template.compile(source, mode)  # type: ignore[arg-type]
        rows["new"].append(time.perf_counter() - start)
    print(f"template compiles alone ({len(calls)} calls, cold caches): "
          + ", ".join(f"{k} {1000 * statistics.median(v):.1f} ms ({1000 * statistics.median(v) / len(files):.3f} ms/file)"
                      for k, v in rows.items()))


if __name__ == "__main__":
    sys.exit(main())
