"""``jizuo worker``: run message deliveries (webhook, e-mail) with retries, backoff and dead letters.

With ``JIZUO_REDIS_URL`` set, the app processes only queue deliveries and any number of workers share the
Redis stream; without it the app delivers in a thread of its own and a worker is not needed (running one
anyway drains the same database table, which is harmless: every delivery is claimed once).
"""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once nothing is left to deliver (cron, tests).")
@click.option("--sweep", default=1.0, show_default=True, type=float,
              help="Seconds between sweeps of the delivery table (retries, expired leases).")
@click.option("--alerts-every", default=300, show_default=True, type=int,
              help="Seconds between alert-engine passes (scans, escalation, evaluation); 0: none here.")
@click.option("--jobs-every", default=60, show_default=True, type=int,
              help="Seconds between looks for plugins' due jobs (jizuo_jobs); 0: none here.")
@click.option("--nightly-at", default="02:30", show_default=True,
              help="District time (HH:MM) of the nightly upkeep: the records' monthly partitions ahead and the "
                   "cockpits' figures recomputed; 'off': none here.")
@with_appcontext
def worker_cmd(burst: bool, sweep: float, alerts_every: int, jobs_every: int, nightly_at: str) -> None:
    """Deliver queued messages until stopped (Ctrl-C / SIGTERM finish the current delivery first), run the
    alert engine's scheduled pass every few minutes (one worker at a time, with Redis), and run plugins'
    periodic jobs when they are due (each period of each school once, however many workers)."""
    from foundation.messaging.worker import Worker

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        click.echo("JIZUO_REDIS_URL is not set: the app delivers in-process; this worker sweeps the database only")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if alerts_every > 0 and not burst:
        threading.Thread(target=_alert_passes, args=(app, stop, alerts_every), daemon=True,
                         name="jizuo-alerts").start()
    if jobs_every > 0 and not burst:
        threading.Thread(target=_job_passes, args=(app, stop, jobs_every), daemon=True, name="jizuo-jobs").start()
    if nightly_at != "off" and not burst:
        threading.Thread(target=_nightly, args=(app, stop, _at(nightly_at)), daemon=True,
                         name="jizuo-nightly").start()
    worker = Worker(app, sweep=sweep)
    click.echo(f"worker {worker.consumer} delivering (redis: {'yes' if app.config.get('REDIS_URL') else 'no'})")
    counts = worker.run(stop, until_idle=burst)
    click.echo(f"sent {counts['sent']}, retried {counts['retry']}, dead {counts['dead']}")


def _alert_passes(app, stop: threading.Event, every: int) -> None:
    """``jizuo alerts run`` inside the worker. With Redis, a lock that lives one period lets only one of
    several workers make each pass (escalation steps fire once anyway; this spares the duplicate work)."""
    import logging

    from foundation.alerts.schedule import committed_pass
    from foundation.messaging.hub import hub

    log = logging.getLogger("jizuo.alerts")
    key = f"{app.config.get('MESSAGE_REDIS_PREFIX') or 'jizuo'}:alerts:pass"
    wait = 0.0  # the first pass at once: a restarted worker catches up on what it missed
    while not stop.wait(wait):
        wait = every
        try:
            r = hub(app).redis
            if r is not None and not r.set(key, "1", nx=True, ex=max(1, every - 1)):
                continue  # another worker made this period's pass
        except Exception:  # noqa: BLE001 - Redis down: make the pass anyway (the database guards each step)
            log.warning("alert pass lock unavailable; passing anyway")
        try:
            with app.app_context():
                log.info("alert pass: %s", committed_pass())
                from foundation.lowcode.flow_deadlines import committed_sweep

                log.info("flow deadlines: %s", committed_sweep())
        except Exception:  # noqa: BLE001 - logged; the next pass tries again
            log.exception("alert pass failed")


def _job_passes(app, stop: threading.Event, every: int) -> None:
    """Plugins' due jobs, looked for every ``every`` seconds (each run is claimed, so several workers share
    them without running one twice)."""
    import logging

    from foundation.jobs import run_due
    from foundation.messaging.hub import hub

    log = logging.getLogger("jizuo.jobs")
    wait = 0.0  # at once: a restarted worker catches up on the periods it missed
    while not stop.wait(wait):
        wait = every
        try:
            with app.app_context():
                made = run_due(redis=hub(app).redis, prefix=app.config.get("MESSAGE_REDIS_PREFIX") or "jizuo")
                if made:
                    log.info("jobs: %s", [(r.job, r.school_id, r.ok) for r in made])
        except Exception:  # noqa: BLE001 - logged; the next look tries again
            log.exception("job pass failed")


def _at(value: str):
    from datetime import datetime

    try:
        return datetime.strptime(value, "%H:%M").time()
    except ValueError:
        raise click.BadParameter("HH:MM (district time) or 'off'", param_hint="--nightly-at") from None


def nightly_upkeep(app) -> dict:
    """Once a night, district-wide: the records' monthly partitions made ahead (PostgreSQL), then every
    school's cockpit figures recomputed, so the district's first look of the day reads the cache."""
    from foundation import db
    from foundation.cli.common import district_session
    from foundation.cockpit.pipeline import refresh
    from foundation.ingest.partitions import ensure_committed

    with app.app_context():  # its session ends with the context
        parts = ensure_committed(db.engine())
        cells = refresh(district_session())  # commits each period as it is done
    return {"partitions": parts.get("created", []), "cockpit": cells}


def _nightly(app, stop: threading.Event, at) -> None:
    """The nightly upkeep at ``at`` district time, once a day across every worker (a Redis key per day; without
    Redis there is one worker, or the upkeep runs twice, harmlessly: both steps are idempotent)."""
    import logging
    from datetime import datetime, timedelta

    from foundation.audit import LOCAL
    from foundation.messaging.hub import hub

    log = logging.getLogger("jizuo.nightly")
    prefix = app.config.get("MESSAGE_REDIS_PREFIX") or "jizuo"
    while True:
        now = datetime.now(LOCAL)
        run = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
        if run <= now:
            run += timedelta(days=1)
        if stop.wait((run - now).total_seconds()):
            return
        try:
            r = hub(app).redis
            if r is not None and not r.set(f"{prefix}:nightly:{run:%Y%m%d}", "1", nx=True, ex=20 * 3600):
                continue  # another worker has tonight's
            log.info("nightly upkeep: %s", nightly_upkeep(app))
        except Exception:  # noqa: BLE001 - logged; tomorrow night tries again (and pages refresh on their own)
            log.exception("nightly upkeep failed")
