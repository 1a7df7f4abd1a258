"""The weekly-drop rule on the schedule and on entries: the same fall seen by both is one occurrence; the
scan finds falls written in bulk; scanning again the same week changes nothing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.points.conftest import sample_student


def test_the_scan_finds_a_bulk_written_fall_once_a_week(app, installed, users, db_session, demo):
    from foundation import db
    from foundation.alerts.schedule import tick
    from foundation.db import utcnow
    from foundation.models import AlertCase
    from foundation.tenancy import unscoped
    from plugins.points import ledger, rulebook

    kid = sample_student(db_session, demo)
    users("homeroom_teacher", 0).get("/points/api/me")
    with app.app_context():  # a bulk import: the ledger written directly, no event, no alert check
        sess = unscoped("test setup").mark(db.session())
        book = rulebook.current(sess, kid.school_id)
        rule = rulebook.item(book["body"], "class_order")
        ledger.add(sess, kid.school_id, [{"student_id": kid.id, "class_id": kid.class_id, "rule": rule,
                                          "raw_points": -30, "reason": "批量导入", "source": "import",
                                          "source_ref": f"import:{n}", "occurred_at": utcnow() - timedelta(days=2)}
                                         for n in range(2)])
        sess.commit()
    for _ in range(2):
        with app.app_context():
            sess = unscoped("test setup").mark(db.session())
            tick(sess)
            sess.commit()
    db_session.expire_all()
    cases = db_session.scalars(sa.select(AlertCase).where(AlertCase.rule_key == "points.weekly_drop")).all()
    assert [(c.student_id, c.level, c.count, c.value) for c in cases] == [(kid.id, "yellow", 1, 60)]
