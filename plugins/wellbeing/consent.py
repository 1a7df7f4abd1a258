"""Guardian consent for students under 14 (PIPL treats their personal information as sensitive): a
screening of such a student waits for a recorded consent, asked through the message center and answered
by a parent on the portal (/wellbeing/consent). Without it the student is listed as awaiting consent and
cannot submit. One row per student: the latest answer stands until a guardian changes it."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import send_messages, utcnow
from plugins.wellbeing.models import Consent

CONSENT_AGE = 14  # the law's age, not a setting


def under_age(birth: date | None, on: date) -> bool:
    """Younger than 14 on ``on``. A student without a birth date counts as under age: ask rather than assume."""
    if birth is None:
        return True
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return years < CONSENT_AGE


def states(sess: so.Session, student_ids: list[int]) -> dict[int, str]:
    """``{student_id: asked | granted | refused}`` for those with a row."""
    out: dict[int, str] = {}
    for i in range(0, len(student_ids), 900):
        part = student_ids[i:i + 900]
        out.update(sess.execute(sa.select(Consent.student_id, Consent.status).where(Consent.student_id.in_(part))).all())
    return out


def ask(sess: so.Session, school_id: int, students: list[dict[str, Any]], screening_title: str) -> int:
    """Ask the guardians of ``students`` (under 14, without an answer yet) for consent; returns how many asked."""
    have = states(sess, [s["id"] for s in students])
    now, batch = utcnow(), []
    for s in students:
        if s["id"] in have and have[s["id"]] != "asked":
            continue
        if s["id"] not in have:
            sess.add(Consent(school_id=school_id, student_id=s["id"], status="asked", asked_at=now))
        batch.append({"recipients": [{"parents_of_student": s["id"]}],
                      "variables": {"student_name": s["name"], "screening": screening_title},
                      "dedupe_key": f"wellbeing-consent-{s['id']}-{screening_title}"[:120]})
    sess.flush()
    # one message per student's guardians, all in one batch (a screening of a whole grade asks hundreds)
    send_messages(sess, "wellbeing.consent_request", batch, school_id=school_id, link="/wellbeing/consent")
    return len(batch)


def answer(sess: so.Session, student_id: int, school_id: int, granted: bool, account_id: int | None,
           name: str) -> Consent:
    row = sess.scalar(sa.select(Consent).where(Consent.student_id == student_id))
    if row is None:
        row = Consent(school_id=school_id, student_id=student_id, asked_at=utcnow())
        sess.add(row)
    row.status, row.answered_at = ("granted" if granted else "refused"), utcnow()
    row.answered_by, row.answered_by_name = account_id, name
    sess.flush()
    return row
