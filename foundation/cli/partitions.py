"""``jizuo partitions``: make the records table's monthly partitions ahead (PostgreSQL; docs/data.md). Run it
daily (``jizuo worker`` does, at ``--nightly-at``; or cron: ``15 2 * * * jizuo partitions``); it also takes any recent
month that gathered rows in the default partition (a backfill) out into a partition of its own."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("partitions")
@click.option("--ahead", type=click.IntRange(0, 24), default=3, show_default=True,
              help="Months after this one to make partitions for.")
@with_appcontext
def partitions_cmd(ahead: int) -> None:
    """Monthly partitions of records: this month and the next ones, and months found in the default."""
    from foundation import db
    from foundation.ingest.partitions import ensure_committed

    done = ensure_committed(db.engine(), ahead=ahead)
    if not done["partitioned"]:
        click.echo("records is not partitioned here (SQLite, or before migration 0022): nothing to do")
        return
    click.echo(f"created: {', '.join(done['created']) or 'none'}; rows moved out of the default: {done['moved']}")
