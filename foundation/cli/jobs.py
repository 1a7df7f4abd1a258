"""``jizuo jobs …``: plugins' periodic jobs (``jizuo_jobs``) for operators: what there is, what ran, and a
manual run. ``jizuo worker`` runs them on their schedule."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from foundation.cli.common import district_session


@click.group("jobs")
def jobs_cmd() -> None:
    """Plugins' periodic jobs: list them and their last runs, or run the due ones now."""


@jobs_cmd.command("list")
@with_appcontext
def jobs_list() -> None:
    """Every job, its period, and its latest runs."""
    from foundation.jobs import all_jobs, last_runs

    sess = district_session()
    for job in sorted(all_jobs().values(), key=lambda j: j.key):
        when = f"daily at {job.at:%H:%M}" if job.at else f"every {job.every}s"
        click.echo(f"{job.key:<32} {when:<18} {job.title.get('zh', '')}")
    runs = last_runs(sess, 20)
    if runs:
        click.echo("\nlatest runs:")
    for r in runs:
        state = "running" if r.ok is None else "ok" if r.ok else f"FAILED {r.error or ''}"
        click.echo(f"  {r.started_at:%Y-%m-%d %H:%M} {r.job:<32} school {r.school_id:<5} {state}")


@jobs_cmd.command("run")
@click.argument("keys", nargs=-1)
@click.option("--school", "schools", type=int, multiple=True, help="Only these school ids (repeatable).")
@with_appcontext
def jobs_run(keys: tuple[str, ...], schools: tuple[int, ...]) -> None:
    """Run the due periods of the named jobs (all jobs when none is named) now."""
    from foundation.jobs import all_jobs, run_due

    district_session()
    unknown = set(keys) - set(all_jobs())
    if unknown:
        raise click.ClickException(f"no such job: {', '.join(sorted(unknown))}")
    made = run_due(only=set(keys) or None, schools=set(schools) or None)
    for r in made:
        click.echo(f"{r.job} school {r.school_id}: {'ok' if r.ok else 'FAILED ' + (r.error or '')}")
    click.echo(f"{len(made)} run(s); {sum(1 for r in made if not r.ok)} failed")
    if any(not r.ok for r in made):
        raise SystemExit(1)
