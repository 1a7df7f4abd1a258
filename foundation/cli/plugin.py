"""``jizuo plugin new NAME``: a vendor's starting point, a complete plugin distribution (hooks, a scoped
table and its migration, a page, an API, zh/en texts, a two-school isolation test) written from the
templates in foundation/scaffold/. docs/plugins.md goes on from there to a school installing it."""
from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import click


@click.group("plugin")
def plugin_cmd() -> None:
    """Write plugins."""


def _taken() -> set[str]:
    """Names of installed plugins (entry points, loaded or not) and of those the running app loaded."""
    from flask import current_app, has_app_context

    names = {ep.name for ep in entry_points(group="jizuo.plugins")}
    if has_app_context() and "jizuo.plugins" in current_app.extensions:
        names |= set(current_app.extensions["jizuo.plugins"].loaded)
    return names


@plugin_cmd.command("new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="Where to write jizuo-NAME/ (default: the current directory).")
@click.option("--title-zh", default="学生笔记", show_default=True, help="The plugin's Chinese title.")
@click.option("--title-en", default="Student notes", show_default=True, help="The plugin's English title.")
@click.option("--vendor", default="", help="Who makes it (shown to the district when it reviews the plugin).")
def new_cmd(name: str, directory: Path, title_zh: str, title_en: str, vendor: str) -> None:
    """Write a new plugin distribution, jizuo-NAME/, ready to test and install."""
    from foundation.scaffold import ScaffoldError, Spec, write

    try:
        target, files = write(Spec(name, title_zh, title_en, vendor), directory, _taken())
    except ScaffoldError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"wrote {target}/")
    for rel in files:
        click.echo(f"  {rel.as_posix()}")
    click.echo(f"""
next:
  cd {target}
  python -m pytest -q      # its two-school isolation test
  pip install -e .         # the platform finds it; then `jizuo init` runs its migration
  the district publishes it in the app square (应用广场); a school admin installs it
  (docs/plugins.md: "From `jizuo plugin new` to a school installing it")""")
