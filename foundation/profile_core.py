"""The core's sections of a student's profile (一生一档), in the same shape as a plugin's
(``jizuo_student_profile``): who the student is (masked), the guardians and the alert cases. Each is shown
to the viewers who hold its capability over the student; the front end draws them (admin/templates/admin/profile/).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import codes
from foundation.i18n import current_lang
from foundation.models import Account, AlertCase, Guardian, GuardianLink, Membership, OrgUnit, Student
from foundation.permissions import Principal
from foundation.reach import StudentRef, class_in_reach, is_family, is_staff_for


def _class_name(sess: so.Session, class_id: int | None, lang: str) -> str | None:
    return None if class_id is None else sess.scalar(sa.select(OrgUnit.title_col(lang)).where(OrgUnit.id == class_id))


def _homeroom(sess: so.Session, class_id: int | None) -> list[str]:
    """The display names of the class's homeroom teachers (a family knows whom to turn to)."""
    if class_id is None:
        return []
    return list(sess.scalars(sa.select(Account.display_name).join(Membership, Membership.account_id == Account.id)
                             .where(Membership.org_unit_id == class_id, Membership.role == "homeroom_teacher",
                                    Account.active.is_(True)).order_by(Account.id)))


def identity(sess: so.Session, student: StudentRef, p: Principal) -> dict[str, Any]:
    """Who the student is: the ID number masked (revealing it is a separate, audited step)."""
    from foundation.services.people import student_view

    s = sess.get(Student, student.id)
    lang = current_lang()
    view = student_view(s, lang)
    staff = is_staff_for(p, student)
    return {
        "name": view["name"], "student_no": view["student_no"], "sex": view["sex"], "ethnicity": view["ethnicity"],
        "birth_date": view["birth_date"].isoformat() if view["birth_date"] else None,
        "id_number_masked": view["id_number_masked"], "boarding": view["boarding"],
        "class_id": student.class_id, "class_name": _class_name(sess, student.class_id, lang),
        "homeroom": _homeroom(sess, student.class_id),
        # the roster is drawn as a link only for staff who can open it (a family sees the class name)
        "class_link": bool(staff and student.class_id and class_in_reach(p, student.class_id, student.school_id)),
        "can_reveal": bool(view["id_number_masked"]) and p.can("people.student.id_number.reveal", student.school_id),
    }


def guardians(sess: so.Session, student: StudentRef, p: Principal) -> dict[str, Any] | None:
    """The student's guardians for staff over the student: relation, masked phone, whether they have an
    account yet (the ones without can be given a binding code), and whether the viewer can message them."""
    if not is_staff_for(p, student, "people.guardian.read"):
        return None  # families know their own guardians; the section is staff work
    from foundation.messaging.notices import may_address_class
    from foundation.security.fields import mask_phone
    from foundation.services.people import cipher

    lang = current_lang()
    rows = sess.execute(sa.select(Guardian, GuardianLink.relation_code, GuardianLink.is_primary)
                        .join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
                        .where(GuardianLink.student_id == student.id)
                        .order_by(GuardianLink.is_primary.desc(), Guardian.id)).all()
    with_account = set(sess.scalars(sa.select(Account.person_id).where(
        Account.person_kind == "guardian", Account.active.is_(True),
        Account.person_id.in_([g.id for g, *_ in rows]))))
    can_message = bool(student.class_id) and may_address_class(p, student.class_id, student.school_id) \
        and any(g.id in with_account for g, *_ in rows)
    return {"guardians": [{"id": g.id, "name": g.name, "relation": codes.label("family_relation", rel, lang),
                           "primary": bool(primary), "has_account": g.id in with_account,
                           "phone_masked": mask_phone(cipher().decrypt(g.phone_enc)) if g.phone_enc else None}
                          for g, rel, primary in rows],
            "can_bind": p.can("people.guardian.manage", student.school_id),
            "can_message": can_message,
            # the send form with this student's guardians chosen (messages/notices.py: audience "student")
            "message_url": f"/messages/send?student={student.id}" if can_message else None}


def alerts(sess: so.Session, student: StudentRef, p: Principal) -> dict[str, Any] | None:
    """The student's alert cases this viewer may see (the alert center's own rule: own classes, assigned or
    the school's overview), open ones first; a sensitive case shows no more here than in the alert center."""
    if is_family(p, student) and not is_staff_for(p, student):
        return None
    from foundation.alerts.access import summaries, visible_where

    cases = list(sess.scalars(sa.select(AlertCase).where(AlertCase.student_id == student.id, visible_where(p))
                              .order_by(AlertCase.closed_at.is_not(None), AlertCase.opened_at.desc()).limit(20)))
    shown = summaries(sess, cases, current_lang())
    return {"cases": [{k: c[k] for k in ("id", "rule_title", "category", "level", "status", "opened_at",
                                         "closed_at", "outcome", "sensitive", "next_due_at")} for c in shown],
            "open": sum(1 for c in shown if not c["closed_at"])}


SECTIONS: list[dict[str, Any]] = [
    {"key": "core.identity", "title": {"zh": "基本信息", "en": "Identity"}, "capability": "people.student.read",
     "order": 0, "data": identity},
    {"key": "core.guardians", "title": {"zh": "监护人", "en": "Guardians"}, "capability": "people.guardian.read",
     "order": 5, "data": guardians, "sensitive": True},
    {"key": "core.alerts", "title": {"zh": "预警", "en": "Alerts"}, "capability": "alerts.case.read",
     "order": 10, "data": alerts, "sensitive": True},
]
