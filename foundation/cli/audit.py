"""``jizuo audit verify|prune``: check the audit log's hash chain; delete rows past the retention, leaving a
signed checkpoint (foundation/audit_chain.py, docs/security.md)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from foundation.cli.common import district_session
from foundation.cli.progress import Progress


@click.group("audit")
def audit_cmd() -> None:
    """The audit log's hash chain: verify it, prune it."""


@audit_cmd.command("verify")
@click.option("--quiet", is_flag=True, help="No progress line.")
@with_appcontext
def audit_verify(quiet: bool) -> None:
    """Check every row against its hash and its place; name the first edited, inserted or deleted row."""
    from foundation.audit_chain import verify

    progress = Progress(enabled=not quiet)
    verdict = verify(district_session(), progress)
    progress.close()
    cp = verdict.checkpoint
    start = f"from the signed checkpoint at seq {cp.seq} ({cp.pruned} rows pruned {cp.created_at:%Y-%m-%d})" \
        if cp else "from the first row"
    if not verdict.ok:
        click.echo(f"audit chain BROKEN after {verdict.rows} good rows {start}", err=True)
        click.echo(str(verdict.problem), err=True)
        sys.exit(1)
    click.echo(f"audit chain OK: {verdict.rows} rows {start}, head seq {verdict.head_seq}")
    click.echo(f"head hash {verdict.head_hash}")


@audit_cmd.command("prune")
@click.option("--keep-days", type=int, default=None,
              help="Keep this many days (default JIZUO_AUDIT_RETENTION_DAYS; never under 180).")
@click.option("--quiet", is_flag=True, help="No progress line.")
@with_appcontext
def audit_prune(keep_days: int | None, quiet: bool) -> None:
    """Delete the rows older than the retention, after verifying the chain; sign a checkpoint at the last."""
    from foundation.audit_chain import ChainBroken, prune, retention_days

    try:
        days = retention_days(current_app.config["AUDIT_RETENTION_DAYS"] if keep_days is None else keep_days)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--keep-days") from err
    sess = district_session()
    progress = Progress(enabled=not quiet)
    try:
        done = prune(sess, days, progress)
    except ChainBroken as err:
        progress.close()
        click.echo("nothing pruned: the audit chain does not verify", err=True)
        click.echo(str(err), err=True)
        sys.exit(1)
    progress.close()
    sess.commit()
    if done.checkpoint is None:
        click.echo(f"nothing to prune: no row older than {done.cutoff:%Y-%m-%d %H:%M} UTC ({days} days)")
        return
    cp = done.checkpoint
    click.echo(f"pruned {done.rows} rows older than {done.cutoff:%Y-%m-%d %H:%M} UTC ({days} days); "
               f"checkpoint at seq {cp.seq}, hash {cp.hash}, signed by key {cp.kid}")
