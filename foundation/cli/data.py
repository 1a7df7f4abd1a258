"""``jizuo ingest`` and ``jizuo sources``: loading records from files on the command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from foundation.cli.common import district_session
from foundation.i18n import t


@click.command("ingest")
@click.argument("library")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="Code of a registered source system.")
@click.option("--school-code", default=None, help="Default school for records that do not name one.")
@click.option("--atomic", is_flag=True, help="All or nothing: write no record if any is rejected.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def ingest_cmd(library: str, file: Path, source: str, school_code: str | None, atomic: bool, as_json: bool) -> None:
    """Ingest a CSV or JSON (a list, or {"records": [...]}) file into a business library."""
    from foundation.ingest import intake
    from foundation.ingest.service import Context, UnknownLibrary, ingest
    from foundation.models import DataSource, OrgUnit

    sess = district_session()
    if sess.scalar(sa.select(DataSource.id).where(DataSource.code == source)) is None:
        raise click.ClickException(f"no registered source {source!r} (jizuo sources add)")
    raw = file.read_bytes()
    try:
        records, encoding = (intake.json_records(json.loads(raw)), "utf-8") if file.suffix.lower() == ".json" \
            else intake.csv_records(raw)
    except (intake.IntakeError, ValueError) as err:
        raise click.ClickException(f"{file.name}: {t(getattr(err, 'key', 'ingest.body_shape'), 'en')}") from err
    schools = set(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    default = None
    if school_code:
        default = sess.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == school_code, OrgUnit.kind == "school"))
        if default is None:
            raise click.ClickException(f"no school with code {school_code}")
    with click.progressbar(length=len(records), label=f"{library} ← {file.name}", file=sys.stderr,
                           show_pos=True) as bar:
        try:
            report = ingest(sess, library, records, source=source, ctx=Context(schools, default), atomic=atomic,
                            progress=bar.update)
        except UnknownLibrary:
            raise click.ClickException(f"no business library {library!r} (jizuo standards list)") from None
    if report.atomic_failed:
        sess.rollback()
    else:
        sess.commit()
    body = report.as_dict() | {"received": len(records), "encoding": encoding}
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, default=str))
    else:
        click.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
                   f"conflicts {report.conflicts}, rejected {len(report.rejected)} ({encoding})")
        for item in report.rejected[:20]:
            where = ", ".join(f"{k}: {t(v, 'en')}" for k, v in item["fields"].items())
            click.echo(f"  record {item['index'] + 1} ({item.get('source_id')}): {where}")
    if report.rejected and atomic:
        sys.exit(1)


@click.group("sources")
def sources_cmd() -> None:
    """Registered source systems (一数一源)."""


@sources_cmd.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--client-id", default=None, help="The OIDC client that writes as this source.")
@click.option("--library", "libraries", multiple=True, help="Restrict to these libraries.")
@with_appcontext
def sources_add(code: str, name: str, client_id: str | None, libraries: tuple[str, ...]) -> None:
    from foundation.models import DataSource

    sess = district_session()
    if sess.scalar(sa.select(DataSource.id).where(DataSource.code == code)):
        raise click.ClickException(f"source {code} exists")
    sess.add(DataSource(code=code, name=name, client_id=client_id, libraries=list(libraries)))
    sess.commit()
    click.echo(f"source {code} registered")
