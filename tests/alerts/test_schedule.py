"""The scheduled side: rule scans (a plugin's only where it is enabled) through ``jizuo alerts run``,
automatic evaluation through the rule's ``evaluate``, and a failing scan that does not stop the others."""
from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from foundation.hookspecs import hookimpl
from tests.alerts.conftest import MONDAY


def _cases(db_session, rule: str) -> list[tuple[int, int, int]]:
    from foundation.models import AlertCase

    return db_session.execute(sa.select(AlertCase.school_id, AlertCase.student_id, AlertCase.count)
                              .where(AlertCase.rule_key == rule).order_by(AlertCase.student_id)).all()


def test_jizuo_alerts_run_scans_and_retriggers(runner, db_session, k0, k1):
    from foundation.alerts import register_rule, unregister_rule

    watched = {k0.school_id: k0.students[:3], k1.school_id: k1.students[:1]}
    register_rule({"key": "test.scan_absent", "title": "连续缺勤", "level": "yellow", "category": "attendance",
                   "scan": lambda sess, school: [{"student_id": s, "value": 3} for s in watched.get(school, [])]})
    register_rule({"key": "test.scan_broken", "title": "坏规则", "level": "yellow",
                   "scan": lambda sess, school: 1 / 0})
    try:
        out = runner.invoke(["alerts", "run", "--now", "2026-11-23T01:00"])
        assert out.exit_code == 0, out.output
        result = json.loads(out.output)
        assert result["scanned"]["test.scan_absent"] == 4 and result["scanned"]["test.scan_broken"] == 0
        # the same condition found again the same school day is not a new occurrence; the next day it is
        runner.invoke(["alerts", "run", "--now", "2026-11-23T02:00"])
        db_session.expire_all()
        assert {c for _, _, c in _cases(db_session, "test.scan_absent")} == {1}
        runner.invoke(["alerts", "run", "--now", "2026-11-24T02:00", "--school", str(k0.school_id)])
        db_session.expire_all()
        assert _cases(db_session, "test.scan_absent") == [(k0.school_id, s, 2) for s in k0.students[:3]] + [
            (k1.school_id, k1.students[0], 1)]
        looped = runner.invoke(["alerts", "run", "--every", "10", "--passes", "1", "--now", "2026-11-24T03:00"])
        assert looped.exit_code == 0 and json.loads(looped.output)["scanned"]["test.scan_absent"] == 4
        listing = runner.invoke(["alerts", "rules"]).output
        assert "test.scan_absent" in listing and "scheduled" in listing and "core.manual" in listing
    finally:
        unregister_rule("test.scan_absent")
        unregister_rule("test.scan_broken")


class WellbeingPlugin:
    """A plugin declaring a scanning rule through ``jizuo_alert_rules``."""

    def __init__(self, students: dict[int, list[int]]) -> None:
        self.students = students  # per school

    @hookimpl
    def jizuo_manifest(self) -> dict:
        return {"name": "wellbeing_t", "version": "1.0.0", "title": {"zh": "心理测试", "en": "Wellbeing test"},
                "description": {"zh": "测试", "en": "Test"}, "foundation": ">=0.1,<1.0"}

    @hookimpl
    def jizuo_alert_rules(self) -> list[dict]:
        return [{"key": "wellbeing_t.screening", "title": {"zh": "筛查高风险", "en": "Screening high risk"},
                 "level": "red", "category": "psychology", "assign": ["psychology_teacher"],
                 "scan": lambda sess, school: [{"student_id": s} for s in self.students.get(school, [])],
                 "evaluate": lambda sess, case: case.value is None}]


def test_a_plugins_rule_runs_only_where_the_plugin_is_enabled(app, db_session, k0, k1):
    from foundation import db
    from foundation.alerts import act, get_rule, tick
    from foundation.models import AlertCase, PluginInstall
    from foundation.tenancy import unscoped

    host = app.extensions["jizuo.plugins"]
    assert host.register(WellbeingPlugin({k0.school_id: [k0.students[0]], k1.school_id: [k1.students[0]]}), "wellbeing_t")
    try:
        with app.app_context():
            sess = unscoped("test setup").mark(db.session())
            sess.add(PluginInstall(plugin="wellbeing_t", version="1.0.0", school_id=k0.school_id, enabled=True))
            sess.flush()
            assert get_rule("wellbeing_t.screening").plugin == "wellbeing_t"
            # installed in school 0 only: the other school is not scanned
            assert tick(sess, MONDAY)["scanned"]["wellbeing_t.screening"] == 1
            case = sess.scalar(sa.select(AlertCase).where(AlertCase.rule_key == "wellbeing_t.screening"))
            assert (case.school_id, case.level, case.sensitive) == (k0.school_id, "red", True)
            act(sess, case, "plan", account_id=k0.psych, actor="p", note="每周辅导", evaluation_days=14, now=MONDAY)
            assert tick(sess, MONDAY + timedelta(days=13))["evaluated"] == 0
            assert tick(sess, MONDAY + timedelta(days=15))["evaluated"] == 1
            assert (case.recovered, case.status) == (True, "evaluated")
            sess.commit()
    finally:
        host.unregister("wellbeing_t")
