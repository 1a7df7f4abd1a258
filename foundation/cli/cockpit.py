"""``jizuo cockpit refresh``: recompute the cockpits' figures for every school (docs/cockpit.md). Run it
nightly (``jizuo worker`` does, at ``--nightly-at``; or cron: ``30 2 * * * jizuo cockpit refresh``) so the first look
of the day reads the cache; pages recompute what went stale in between on their own."""
from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from foundation.cli.common import district_session


@click.group("cockpit")
def cockpit_cmd() -> None:
    """The cockpits' figures cache (局长看板, 校长看板)."""


@cockpit_cmd.command("refresh")
@click.option("--period", "periods", multiple=True,
              help="A term (2026-1) or month (2026-11) to recompute (repeatable); default: the term under way and this month.")
@click.option("--school", "schools", type=int, multiple=True, help="Only these school ids (repeatable).")
@with_appcontext
def cockpit_refresh(periods: tuple[str, ...], schools: tuple[int, ...]) -> None:
    """Recompute every figure of every school now and keep it in the cache."""
    from foundation.cockpit.periods import PeriodError
    from foundation.cockpit.pipeline import refresh

    t0 = time.perf_counter()
    try:
        done = refresh(district_session(), list(periods) or None, list(schools) or None)
    except PeriodError as err:
        raise click.BadParameter(str(err), param_hint="--period") from None
    for key, n in done.items():
        click.echo(f"{key}: {n} figure cells cached")
    click.echo(f"done in {time.perf_counter() - t0:.1f} s")
