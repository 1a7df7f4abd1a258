"""``jizuo oneroster …``: import and export OneRoster 1.1 / 1.2 CSV bundles (zip files).

Each command commits once at its end; an ``--atomic`` import with errors commits nothing and exits 1.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from foundation.cli.common import district_session


class _Bars:
    """One click progress bar per file on stderr, fed by the importer's (file, done, total) callback."""

    def __init__(self) -> None:
        self.bar, self.stage, self.done = None, None, 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.bar = click.progressbar(length=max(total, 1), label=f"{stage:<16}", file=sys.stderr,
                                         show_pos=True)
            self.bar.__enter__()
            self.stage, self.done = stage, 0
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _school_id(sess, code: str | None) -> int | None:
    from foundation.models import OrgUnit

    if code is None:
        return None
    school = sess.scalar(sa.select(OrgUnit.id).where(OrgUnit.kind == "school", OrgUnit.code == code))
    if school is None:
        raise click.ClickException(f"no school with code {code}")
    return school


@click.group("oneroster")
def oneroster_cmd() -> None:
    """OneRoster CSV bundles: import and export."""


@oneroster_cmd.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--school-code", default=None, help="Import into this one school (its 10-digit code).")
@click.option("--atomic", is_flag=True, help="Write nothing when any row is bad (exit status 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def import_cmd(file: Path, school_code: str | None, atomic: bool, as_json: bool) -> None:
    """Import FILE: a OneRoster zip (or a folder of its CSV files)."""
    from foundation.oneroster import import_bundle

    sess = district_session()
    bars = _Bars()
    try:
        report = import_bundle(sess, file, school_code=school_code, atomic=atomic, progress=bars)
    finally:
        bars.close()
    if report.applied:
        sess.commit()
    else:
        sess.rollback()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.summary())
        for label, issues in (("error", report.errors), ("warning", report.warnings)):
            for issue in issues:
                click.echo(f"{label}: {issue}")
    if report.errors and (atomic or not report.applied):
        sys.exit(1)


@oneroster_cmd.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--school-code", default=None, help="Export one school (its 10-digit code); default: the district.")
@with_appcontext
def export_cmd(out: Path, school_code: str | None) -> None:
    """Export the district (or one school) as a OneRoster 1.2 CSV zip to OUT."""
    from foundation.oneroster import export_bundle

    sess = district_session()
    data = export_bundle(sess, school_id=_school_id(sess, school_code))
    out.write_bytes(data)
    sess.commit()  # the sourcedIds generated for rows that had none
    click.echo(f"wrote {out} ({len(data):,} bytes)")
