"""``jizuo alerts run`` (one scheduled pass: scans, escalation, automatic evaluation — run it from cron or a
timer every few minutes; the worker may call :func:`foundation.alerts.tick` itself) and ``jizuo alerts
rules`` (what the engine knows)."""
from __future__ import annotations

import json
import time
from datetime import datetime

import click
from flask.cli import with_appcontext


@click.group("alerts")
def alerts_cmd() -> None:
    """The alert engine (预警): scheduled scans, escalation of missed deadlines, rules."""


@alerts_cmd.command("run")
@click.option("--school", "schools", type=int, multiple=True, help="Only these school ids (repeatable).")
@click.option("--now", "at", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]),
              help="Act as if it were this UTC time (replaying a missed run).")
@click.option("--every", type=click.IntRange(min=10), default=None,
              help="Keep running: one pass every N seconds (a scheduler of its own, until Ctrl-C).")
@click.option("--passes", type=click.IntRange(min=1), default=None, hidden=True, help="Stop after N passes.")
@with_appcontext
def alerts_run(schools: tuple[int, ...], at: datetime | None, every: int | None, passes: int | None) -> None:
    """Run every rule's scan, fire due escalation steps, evaluate cases that are due; commit each pass."""
    from foundation.alerts.schedule import committed_pass

    done = 0
    while True:
        try:
            result = committed_pass(at, set(schools) or None)
            from foundation.lowcode.flow_deadlines import committed_sweep

            result["flows"] = committed_sweep(at)  # approval steps past their deadline: remind, escalate
        except Exception:
            if every is None:
                raise
            click.echo("alerts pass failed; trying again next time", err=True)
            result = None
        if result is not None:
            click.echo(json.dumps(result, ensure_ascii=False, sort_keys=True))
        done += 1
        if every is None or (passes is not None and done >= passes):
            return
        time.sleep(every)


@alerts_cmd.command("rules")
@with_appcontext
def alerts_rules() -> None:
    """List the rules: key, level, category, whom they assign, scheduled or not."""
    from foundation.alerts import all_rules

    for rule in sorted(all_rules().values(), key=lambda r: r.key):
        where = f" [{rule.plugin}]" if rule.plugin else ""
        scan = " scheduled" if rule.scan else ""
        click.echo(f"{rule.key}{where}  {rule.level}  {rule.category}  {','.join(rule.assign)}{scan}  "
                   f"{rule.title['zh']}")
