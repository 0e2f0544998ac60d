"""Options and values shared by several commands (upstreams, capability files, sizes)."""

from __future__ import annotations

from pathlib import Path

import click


def _parse_upstreams(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        namespace, sep, url = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"expected NAMESPACE=URL (or *=URL) with an http(s) URL, got '{item}'", param_hint="--upstream")
        out[namespace] = url
    return out


def _split_env_list(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeatable options also come from one variable, space- or comma-separated."""
    return tuple(part for value in values for part in value.replace(",", " ").split() if part)


def _capability_files(paths: tuple[Path, ...]) -> list[Path]:
    """FILES as given; a directory stands for its *.yaml and *.yml files (e.g. the container's /capabilities)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                raise click.BadParameter(f"no .yaml or .yml capability file in directory '{path}'", param_hint="FILES")
            files += found
        else:
            files.append(path)
    return files


def _size(_: click.Context, __: click.Parameter, value: str | int | None) -> int | None:
    from ..limits import parse_size

    if value is None or isinstance(value, int):
        return value
    try:
        return parse_size(value)
    except ValueError:
        raise click.BadParameter(f"expected a size such as 1048576, 512k or 10M, got '{value}'") from None


STRICT_HELP = "Refuse a file with any error `naftiko validate` reports, instead of serving all but its broken parts."
