"""A term of the core's own activity in the demo district, so every cockpit tile has something to show
(``jizuo demo`` runs it after the plugins' demo data and their alert pass):

- **families** get accounts (the primary guardian of each enrolled student, with the demo password), so a
  notice reaches them;
- **notices** (家校沟通): each homeroom class receives a few notices over the past term from its school,
  about half asking families to confirm (确认收到), and each school sends two to the whole school; most
  families read them, most of those asked confirm, a few reply;
- **alert cases** the plugins' checks opened are spread over the past weeks and worked on through the alert
  actions (contact, plan, evaluation, closing): most on time, some late, some evaluated as recovered;
- **low-code apps**: the first school builds an app of its own, submits it to the app square, where the
  district publishes and promotes it; every other school clones the district's copy, and every school
  clones the class-leave template.

Deterministic per ``seed``; written in bulk (one statement per table and school) to keep the demo fast.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.models import (
    Account,
    AlertAssignee,
    AlertCase,
    AlertEvent,
    AppListing,
    Guardian,
    GuardianLink,
    InboxItem,
    LowcodeForm,
    Membership,
    Message,
    OrgUnit,
    Student,
)

NOTICES = [("本周家长会安排", "Parents' meeting this week"), ("秋季运动会通知", "Autumn sports day"),
           ("流感季节防护提示", "Flu season reminder"), ("期中考试安排", "Mid-term exam timetable"),
           ("安全教育平台作业", "Safety education homework"), ("校服征订通知", "School uniform orders")]
REPLIES = ["收到，谢谢老师", "孩子那天请假，已知悉", "请问需要带什么材料？", "好的，会准时参加"]
APP = {"title": {"zh": "社团活动签到", "en": "Club activity check-in"},
       "schema": {"type": "object", "required": ["club"], "properties": {
           "club": {"type": "string", "title": "社团", "maxLength": 40,
                    "x-jizuo-title": {"zh": "社团", "en": "Club"}},
           "present": {"type": "integer", "title": "到场人数", "minimum": 0, "maximum": 200,
                       "x-jizuo-title": {"zh": "到场人数", "en": "Present"}}}},
       "ui_schema": {}}


def fill_activity(sess: so.Session, seed: int, password_hash: str | None = None) -> dict[str, int]:
    """Fill it for every demo school in the (unscoped) session and commit school by school."""
    rng = random.Random(seed * 31 + 21)
    now = utcnow()
    schools = list(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school").order_by(OrgUnit.id)))
    if password_hash is None:  # the demo's shared hash: every demo account has the demo password
        password_hash = sess.scalar(sa.select(Account.password_hash).where(Account.username == "district.admin"))
    done = {"family_accounts": 0, "notices": 0, "cases_worked": 0, "apps": 0}
    for school in schools:
        done["family_accounts"] += _families(sess, school, password_hash)
        done["notices"] += _notices(sess, school, rng, now)
        done["cases_worked"] += _cases(sess, school, rng, now)
        sess.commit()
    done["apps"] = _apps(sess, schools)
    sess.commit()
    return done


def _linked(school: int):
    return sa.select(GuardianLink.guardian_id).where(GuardianLink.school_id == school)


def _families(sess: so.Session, school: int, password_hash: str) -> int:
    """An account for each enrolled student's primary guardian who has none yet."""
    have = set(sess.scalars(sa.select(Account.person_id).where(Account.person_kind == "guardian",
                                                                Account.person_id.in_(_linked(school)))))
    enrolled = set(sess.scalars(sa.select(Student.id).where(Student.school_id == school, Student.status_code == "01")))
    gids = sorted({g for g, s in sess.execute(sa.select(GuardianLink.guardian_id, GuardianLink.student_id).where(
        GuardianLink.school_id == school, GuardianLink.is_primary.is_(True))) if s in enrolled and g not in have})
    if not gids:
        return 0
    names = dict(sess.execute(sa.select(Guardian.id, Guardian.name).where(Guardian.id.in_(gids))).all())
    rows = [{"username": f"family{g}", "password_hash": password_hash, "display_name": names.get(g) or "家长",
             "person_kind": "guardian", "person_id": g, "active": True, "failed_logins": 0} for g in gids]
    ids = sess.execute(Account.__table__.insert().returning(Account.__table__.c.id), rows).scalars().all()
    sess.execute(Membership.__table__.insert(), [{"account_id": a, "role": "parent", "org_unit_id": school,
                                          "school_id": school} for a in ids])
    return len(gids)


def _families_of(sess: so.Session, school: int) -> dict[int | None, list[int]]:
    """Family accounts per class of the school (three plain reads, joined here)."""
    accounts = dict(sess.execute(sa.select(Account.person_id, Account.id).where(
        Account.person_kind == "guardian", Account.person_id.in_(_linked(school)))).all())
    classes = dict(sess.execute(sa.select(Student.id, Student.class_id).where(Student.school_id == school,
                                                                              Student.status_code == "01")).all())
    out: dict[int | None, set[int]] = {}
    for gid, sid in sess.execute(sa.select(GuardianLink.guardian_id, GuardianLink.student_id).where(
            GuardianLink.school_id == school)):
        if sid in classes and gid in accounts:
            out.setdefault(classes[sid], set()).add(accounts[gid])
    return {cid: sorted(v) for cid, v in out.items()}


def _insert_ids(sess: so.Session, rows: list[dict]) -> list[int]:
    return list(sess.execute(Message.__table__.insert().returning(Message.__table__.c.id, sort_by_parameter_order=True),
                             rows).scalars()) if rows else []


def _notices(sess: so.Session, school: int, rng: random.Random, now: datetime) -> int:
    """The term's notices of one school, in three bulk statements (notices, inbox rows, replies)."""
    families = _families_of(sess, school)
    sender = sess.scalar(sa.select(Membership.account_id).where(Membership.school_id == school,
                                                                Membership.role == "school_admin").limit(1))
    plan: list[tuple[int | None, list[int]]] = [(None, sorted({a for v in families.values() for a in v}))] * 2
    plan += [(cid, accts) for cid, accts in sorted(families.items(), key=lambda kv: kv[0] or 0) if cid
             for _ in range(rng.randint(3, 5))]
    notices = []
    for cid, accts in plan:
        zh, en = rng.choice(NOTICES)
        notices.append({"type_key": "notice", "school_id": school, "class_id": cid, "sender_account_id": sender,
                        "reply_to_id": None, "subject_zh": zh, "body_zh": zh, "subject_en": en, "body_en": en,
                        "variables": {}, "recipient_count": len(accts), "ack_required": rng.random() < 0.5,
                        "created_at": now - timedelta(days=rng.randint(1, 110), minutes=rng.randint(0, 600)),
                        "reach": {"accounts": len(accts)}})
    inbox, replies = [], []
    for msg_id, n, (cid, accts) in zip(_insert_ids(sess, notices), notices, plan, strict=True):
        at, ack = n["created_at"], n["ack_required"]
        for acct in accts:
            read = at + timedelta(minutes=rng.randint(5, 2880)) if rng.random() < 0.85 else None
            acked = read + timedelta(minutes=rng.randint(0, 60)) if ack and read and rng.random() < 0.8 else None
            inbox.append({"message_id": msg_id, "account_id": acct, "school_id": school, "created_at": at,
                          "read_at": read, "acked_at": acked})
            if read and rng.random() < 0.04:
                text = rng.choice(REPLIES)
                replies.append({"type_key": "notice.reply", "school_id": school, "class_id": cid,
                                "sender_account_id": acct, "reply_to_id": msg_id, "subject_zh": f"回复：{n['subject_zh']}",
                                "body_zh": text, "subject_en": f"Re: {n['subject_en']}", "body_en": text,
                                "variables": {}, "recipient_count": 1 if sender else 0, "ack_required": False,
                                "created_at": read + timedelta(minutes=3), "reach": None})
    ids = _insert_ids(sess, replies)
    if sender:  # a reply reaches the notice's sender
        inbox += [{"message_id": i, "account_id": sender, "school_id": school, "created_at": r["created_at"],
                   "read_at": None, "acked_at": None} for i, r in zip(ids, replies, strict=True)]
    if inbox:
        sess.execute(InboxItem.__table__.insert(), inbox)
    return len(notices)


def _cases(sess: so.Session, school: int, rng: random.Random, now: datetime) -> int:
    """Spread the open cases over the past weeks and work them through the alert actions."""
    from foundation.alerts.actions import act

    cases = sess.scalars(sa.select(AlertCase).where(AlertCase.school_id == school, AlertCase.closed_at.is_(None),
                                                    AlertCase.parent_case_id.is_(None)).order_by(AlertCase.id)).all()
    ids = [c.id for c in cases]
    events: dict[int, list] = {}
    for e in sess.scalars(sa.select(AlertEvent).where(AlertEvent.case_id.in_(ids or [-1]))):
        events.setdefault(e.case_id, []).append(e)
    assignees: dict[int, list] = {}
    for a in sess.scalars(sa.select(AlertAssignee).where(AlertAssignee.case_id.in_(ids or [-1]))):
        assignees.setdefault(a.case_id, []).append(a)
    worked = 0
    for case in cases:
        back = timedelta(days=rng.randint(3, 70), hours=rng.randint(0, 8))
        for attr in ("opened_at", "last_triggered_at", "round_at", "contact_due_at", "plan_due_at", "follow_due_at",
                     "next_due_at"):
            if getattr(case, attr) is not None:
                setattr(case, attr, getattr(case, attr) - back)
        for row in [*events.get(case.id, ()), *assignees.get(case.id, ())]:  # its timeline moves with it
            row.at -= back
        roll = rng.random()
        if roll < 0.15:
            continue  # not yet handled: overdue if its deadline passed
        late = roll > 0.85
        step = case.opened_at + (timedelta(days=4) if late else timedelta(hours=rng.randint(2, 20)))
        if step >= now:
            continue
        who = {"account_id": None, "actor": "演示数据"}
        act(sess, case, "contact", note="已与家长电话沟通", method="phone", now=step, **who)
        if case.plan_due_at is not None or rng.random() < 0.7:
            act(sess, case, "plan", note="制定帮扶计划，两周后评估", evaluation_days=14,
                now=step + timedelta(hours=3), **who)
            judged = step + timedelta(days=15)
            if judged < now and rng.random() < 0.7:
                recovered = rng.random() < 0.65
                act(sess, case, "evaluate", recovered=recovered, now=judged, **who)
                if rng.random() < 0.6:
                    act(sess, case, "close", outcome="recovered" if recovered else "not_recovered",
                        now=judged + timedelta(hours=1), **who)
        worked += 1
    sess.flush()
    return worked


def _apps(sess: so.Session, schools: list[int]) -> int:
    """One school's own app, promoted through the square; the others clone it; everyone clones a template."""
    from foundation.lowcode import forms
    from foundation.services import square

    if not schools:
        return 0
    first = schools[0]
    app = LowcodeForm(title=APP["title"], draft_schema=APP["schema"], draft_ui=APP["ui_schema"], draft_app={},
                      school_id=first)
    sess.add(app)
    sess.flush()
    version = forms.publish(sess, app, None)
    listing = square.list_app(sess, app, version.version, account_id=None, name="演示数据",
                              description={"zh": "社团活动的签到表", "en": "Check-in for club activities"})
    for action in ("review", "publish", "promote"):
        listing = square.step(sess, listing, action, account_id=None, name="区教育局", reason=None)
    made = 1
    district_copy = sess.scalar(sa.select(LowcodeForm).where(LowcodeForm.template_key == f"promoted:{app.id}"))
    leave = sess.scalar(sa.select(LowcodeForm).where(LowcodeForm.school_id.is_(None),
                                                     LowcodeForm.template_key == "class_leave"))
    for school in schools:
        sources = ([district_copy] if school != first and district_copy is not None else []) + \
            ([leave] if leave is not None else [])
        for source in sources:
            forms.publish(sess, forms.clone(sess, source, school_id=school, account_id=None), None)
            made += 1
    assert sess.scalar(sa.select(AppListing.level).where(AppListing.id == listing.id)) == "district"
    return made
