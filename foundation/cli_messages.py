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
@with_appcontext
def worker_cmd(burst: bool, sweep: float) -> None:
    """Deliver queued messages until stopped (Ctrl-C / SIGTERM finish the current delivery first)."""
    from foundation.messaging.worker import Worker

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        click.echo("JIZUO_REDIS_URL is not set: the app delivers in-process; this worker sweeps the database only")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = Worker(app, sweep=sweep)
    click.echo(f"worker {worker.consumer} delivering (redis: {'yes' if app.config.get('REDIS_URL') else 'no'})")
    counts = worker.run(stop, until_idle=burst)
    click.echo(f"sent {counts['sent']}, retried {counts['retry']}, dead {counts['dead']}")
