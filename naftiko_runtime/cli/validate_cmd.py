"""`naftiko validate`: diagnostics of many files, in worker processes when worth it."""

from __future__ import annotations

import functools
import json
import os
import sys
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
    workers = min(jobs, len(files)) if jobs else _validate_workers(len(files))
    if workers > 1:
        import concurrent.futures
        import multiprocessing

        from ..capability.schema import prepare

        prepare()  # compile the schema once, before the workers fork

        # fork: the workers inherit the modules already imported (a spawned worker pays the start-up again)
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            chunk = max(1, len(files) // (workers * 8))
            results = list(pool.map(functools.partial(_validate_one, strict=strict), files, chunksize=chunk))
    else:
        results = [_validate_one(f, strict=strict) for f in files]
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
