"""`naftiko export`: a capability's exposed surface in another format (OpenAPI)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..capability.loader import load


@click.group()
def export() -> None:
    """Export a capability's exposed surface in another format."""


@export.command("openapi")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write here instead of stdout (.json for JSON).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), help="Default: from the output suffix, else yaml.")
def export_openapi(file: Path, output: Path | None, fmt: str | None) -> None:
    """An OpenAPI 3.1 document of the REST adapters of FILE."""
    from ..exposes.rest.openapi import build_openapi

    result = load(file)
    if not result.ok or result.capability is None:
        for d in result.errors:
            click.echo(str(d), err=True)
        sys.exit(1)
    document = build_openapi(result.capability)
    fmt = fmt or ("json" if output is not None and output.suffix == ".json" else "yaml")
    if fmt == "json":
        text = json.dumps(document, indent=2) + "\n"
    else:
        import io

        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.width = 4096
        yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # ruamel declares it None
        buffer = io.StringIO()
        yaml.dump(document, buffer)
        text = buffer.getvalue()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)

