"""The scheduled side of the engine, one :func:`tick` for ``jizuo alerts run`` and the worker: run every
rule's ``scan`` over each school (a plugin's rules only where the plugin is enabled), fire due escalation
steps, and evaluate cases whose agreed period is over when their rule can judge recovery itself."""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.alerts import clock
from foundation.alerts.actions import act
from foundation.alerts.calendar import load_clock
from foundation.alerts.engine import trigger_district, trigger_many
from foundation.alerts.escalation import sweep
from foundation.alerts.rules import Rule, all_rules, get_rule
from foundation.models import AlertCase, OrgUnit, PluginInstall
from foundation.tenancy import unscoped

log = logging.getLogger("jizuo.alerts")
PASS = unscoped("the scheduled alert pass works through every school")


def _schools(sess: so.Session, rule: Rule, only: set[int] | None) -> list[int]:
    stmt = sa.select(OrgUnit.id).where(OrgUnit.kind == "school", OrgUnit.active.is_(True)).order_by(OrgUnit.id)
    schools = list(sess.scalars(stmt))
    if rule.plugin:
        enabled = set(sess.scalars(sa.select(PluginInstall.school_id).where(
            PluginInstall.plugin == rule.plugin, PluginInstall.enabled.is_(True))))
        schools = [s for s in schools if s in enabled]
    return [s for s in schools if only is None or s in only]


BATCH = 20_000  # hits per district batch: the schools' scans are gathered up to this many, then written at once


def run_scans(sess: so.Session, now: datetime | None = None, schools: set[int] | None = None,
              rules: set[str] | None = None) -> dict[str, int]:
    """Each scanning rule over each school; returns hits per rule. A failing scan is logged and skipped.

    The scans run school by school (a rule's scan is code that reads one school); their hits are then
    written for many schools at once (:func:`trigger_district`). Should that batch fail (a scan naming a
    student of another school, say), it is rolled back and the schools are taken one by one, so that one
    school's bad hits cost only that school's cases, as before."""
    at = now or clock.now()
    out: dict[str, int] = {}
    for rule in all_rules().values():
        if rule.scan is None or (rules is not None and rule.key not in rules):
            continue
        out[rule.key] = 0
        found: dict[int, list] = {}
        for school in _schools(sess, rule, schools):
            try:
                with sess.begin_nested():
                    found[school] = rule.run_scan(sess, school)
            except Exception:  # noqa: BLE001 - one rule's bug must not stop the others
                log.exception("alert rule %s failed to scan school %s", rule.key, school)
                continue
            if sum(len(h) for h in found.values()) >= BATCH:
                out[rule.key] += _write(sess, rule, found, at)
                found = {}
        out[rule.key] += _write(sess, rule, found, at)
    return out


def _write(sess: so.Session, rule: Rule, found: dict[int, list], at: datetime) -> int:
    """The hits of several schools' scans in one district batch, else school by school; returns the hits
    of the schools whose cases were written."""
    found = {school: hits for school, hits in found.items() if hits}
    if not found:
        return 0
    try:
        with sess.begin_nested():
            trigger_district(sess, rule, found, source="scan", now=at)
        return sum(len(h) for h in found.values())
    except Exception:  # noqa: BLE001 - find the school at fault below
        log.warning("alert rule %s: the district batch failed; writing school by school", rule.key)
    done = 0
    for school, hits in found.items():
        try:
            with sess.begin_nested():
                trigger_many(sess, rule, school, hits, source="scan", now=at)
        except Exception:  # noqa: BLE001
            log.exception("alert rule %s failed to scan school %s", rule.key, school)
            continue
        done += len(hits)
    return done


def evaluate_due(sess: so.Session, now: datetime | None = None) -> int:
    """Judge recovery for cases whose evaluation date has come, where the rule has an ``evaluate``."""
    at = now or clock.now()
    cases = sess.scalars(sa.select(AlertCase).where(
        AlertCase.closed_at.is_(None), AlertCase.evaluated_at.is_(None), AlertCase.evaluate_after.is_not(None))).all()
    done = 0
    for case in cases:
        rule = get_rule(case.rule_key, case.school_id, sess)
        if rule is None or rule.evaluate is None or load_clock(sess, case.school_id).local_date(at) < case.evaluate_after:
            continue
        try:
            with sess.begin_nested():
                result = rule.judge(sess, case)
                if result is None:
                    continue
                act(sess, case, "evaluate", account_id=None, actor=None, recovered=bool(result), now=at)
        except Exception:  # noqa: BLE001
            log.exception("alert rule %s failed to evaluate case %s", rule.key, case.id)
            continue
        done += 1
    return done


def tick(sess: so.Session, now: datetime | None = None, schools: set[int] | None = None) -> dict[str, object]:
    """One pass of everything scheduled. The caller commits."""
    at = now or clock.now()
    scanned = run_scans(sess, at, schools)
    return {"scanned": scanned, "escalated": sweep(sess, at), "evaluated": evaluate_due(sess, at)}


def committed_pass(now: datetime | None = None, schools: set[int] | None = None) -> dict[str, object]:
    """One :func:`tick` in the app's own unscoped session, committed — or rolled back and re-raised. The
    one way ``jizuo alerts run``, ``jizuo worker`` and ``jizuo demo`` make a pass (inside an app context)."""
    from foundation import db

    sess = PASS.mark(db.session())
    try:
        result = tick(sess, now, schools)
        sess.commit()
    except Exception:
        sess.rollback()
        raise
    return result
