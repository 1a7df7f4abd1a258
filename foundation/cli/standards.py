"""``jizuo standards check`` and ``jizuo standards list``: the data standard (standards/) from the shell.

Neither needs the database or an app context: they read the files only.
"""
from __future__ import annotations

from pathlib import Path

import click

from foundation.standards import load_catalog
from standards import ROOT

_root = click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=ROOT,
                     show_default="the shipped standards/", help="A standard tree to read instead.")


@click.group("standards")
def standards_cmd() -> None:
    """The data standard: code dictionaries, base and business libraries, IoT templates."""


@standards_cmd.command("check")
@_root
def standards_check(root: Path) -> None:
    """Validate every file against its schema and cross-check them; exit 1 on any problem."""
    cat = load_catalog(root)
    for problem in cat.problems:
        click.echo(str(problem))
    verdict = f"{len(cat.problems)} problem(s)" if cat.problems else "no problems"
    click.echo(f"{len(cat.libraries)} libraries, {len(cat.dictionaries)} dictionaries, "
               f"{len(cat.iot_templates)} IoT templates: {verdict}")
    if cat.problems:
        raise click.exceptions.Exit(1)


@standards_cmd.command("list")
@_root
def standards_list(root: Path) -> None:
    """The libraries with their kind, version, sensitivity and number of elements."""
    cat = load_catalog(root)
    for lib_id, lib in sorted(cat.libraries.items(), key=lambda item: (item[1].get("kind") != "base", item[0])):
        elements = lib.get("elements") or {}
        click.echo(f"{lib_id:<24} {lib.get('kind', '?'):<9} {lib.get('version', '?'):<8} "
                   f"{lib.get('sensitivity', '?'):<17} {len(elements):>3} elements  {lib.get('title', {}).get('zh', '')}")
    if cat.problems:
        click.echo(f"({len(cat.problems)} problem(s): run `jizuo standards check`)", err=True)
