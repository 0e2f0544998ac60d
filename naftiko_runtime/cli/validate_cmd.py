"""`naftiko validate`: diagnostics of many files, in worker processes when worth it."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from ..capability.loader import LoadResult, load


def _print_text(results: list[LoadResult]) -> None:
    for result in results:
        for d in result.diagnostics:
            click.echo(str(d))
        errors, warnings = len(result.errors), len(result.warnings)
        verdict = "valid" if not errors else "invalid"
        click.echo(f"{result.file}: {verdict} ({errors} error(s), {warnings} warning(s))", err=True)


def _validate_one(file: Path, *, strict: bool) -> LoadResult:
    """One file's diagnostics, unresolved binds included (the model stays behind: a worker returns only these)."""
    from ..binding.binds import resolve_capability_binds, unresolved_diagnostics

    result = load(file, strict=strict)
    if result.capability is not None:
        result.diagnostics.extend(unresolved_diagnostics(result.capability, resolve_capability_binds(result.capability)))
    return LoadResult(result.file, None, result.diagnostics)


#: Files per extra worker below which a process pool costs more than it saves (a fork, ~7 ms a file).
_FILES_PER_WORKER = 16


def _validate_workers(files: int) -> int:
    """Processes for `validate`: one per core that is free (this process's cores minus the load), if worth it."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores < 2 or files < 2 * _FILES_PER_WORKER:
        return 1
    free = cores - int(os.getloadavg()[0]) if hasattr(os, "getloadavg") else cores
    return max(1, min(cores, free, files // _FILES_PER_WORKER))


#: Allocations between young-generation collections while validating (CPython's default is 700).
_GC_YOUNG = 20_000


@contextlib.contextmanager
def _collecting_less() -> Iterator[None]:
    """Spare the cyclic garbage collector's work while validating a batch (restored after, for in-process callers).

    What is loaded by now (modules, the compiled schema) lives as long as the process: frozen, no collection
    walks it again. Reading and checking a file allocates many objects that reference counting frees; with
    CPython's default threshold the collector ran ~3 times a file and took 15 % of `validate`'s time (4 % now).
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_GC_YOUNG, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _validate_all(files: tuple[Path, ...], *, strict: bool, jobs: int) -> list[LoadResult]:
    """Every file's diagnostics in the order given; in worker processes when worth it."""
    workers = min(jobs, len(files)) if jobs else _validate_workers(len(files))
    if workers <= 1:
        return [_validate_one(f, strict=strict) for f in files]
    import concurrent.futures
    import multiprocessing

    # fork: the workers inherit the modules already imported (a spawned worker pays the start-up again)
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        chunk = max(1, len(files) // (workers * 8))
        return list(pool.map(functools.partial(_validate_one, strict=strict), files, chunksize=chunk))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Report every schema violation as an error, tolerated deviations included.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="Print errors only.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True,
              help="Processes to validate many files with; 0: one per free core (1 for a few files).")
def validate(files: tuple[Path, ...], strict: bool, fmt: str, quiet: bool, jobs: int) -> None:
    """Check capability FILES and report errors and warnings as file:line:col.

    Exit status: 0 when every file is valid (warnings allowed), 1 otherwise, 2 on usage errors.
    """
    from ..capability.schema import prepare

    prepare()  # compile the schema once, before any worker forks (and before freezing what lives on)
    with _collecting_less():
        results = _validate_all(files, strict=strict, jobs=jobs)
    if quiet:
        for r in results:
            r.diagnostics = r.errors
    if fmt == "json":
        payload = [
            {"file": r.file, "valid": not r.errors, "diagnostics": [d.as_json() for d in r.diagnostics]}
            for r in results
        ]
        click.echo(json.dumps(payload, indent=2))
    else:
        _print_text(results)
    sys.exit(0 if all(not r.errors for r in results) else 1)
