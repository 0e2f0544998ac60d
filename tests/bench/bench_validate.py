"""Benchmark (not a test): how long `naftiko validate` takes over the whole corpus.

    python -m tests.bench.bench_validate [--repeat 3]

Prints files, seconds (median of the repeats), milliseconds per file, and the split
between reading YAML, the schema check and normalising, measured in-process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from naftiko_runtime.capability import loader, yaml_source
from naftiko_runtime.capability.schema import check_schema
from tests.support.paths import CORPUS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = sorted(CORPUS.rglob("*.yaml"))

    in_process = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        for f in files:
            loader.load(f)
        in_process.append(time.perf_counter() - start)

    start = time.perf_counter()
    docs = [yaml_source.parse_yaml(yaml_source.read_text(f), str(f)) for f in files]
    parse = time.perf_counter() - start
    start = time.perf_counter()
    for d in docs:
        check_schema(d.data)
    schema = time.perf_counter() - start

    cli = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "naftiko_runtime", "validate", "-q", *map(str, files)], capture_output=True)
        cli.append(time.perf_counter() - start)

    median = statistics.median(in_process)
    print(f"corpus files            {len(files)}")
    print(f"load (in process)       {median:.2f} s median of {args.repeat} ({median / len(files) * 1000:.1f} ms/file, spread {min(in_process):.2f}-{max(in_process):.2f})")
    print(f"  of which YAML read    {parse:.2f} s")
    print(f"  of which schema check {schema:.2f} s")
    print(f"naftiko validate (CLI)  {statistics.median(cli):.2f} s median (includes interpreter start)")


if __name__ == "__main__":
    main()
