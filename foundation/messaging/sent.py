"""What a person sent: their notices with read counts and replies, and one notice's receipts — who read it,
and for a notice that asked to be confirmed, who confirmed it. Only the sender sees these (another person's
message is simply not found).

For a notice to a class's or a school's families the confirmations are shown per student: the student, the
class, each guardian and whether they confirmed — and the students whose families have no account (they
never received it). Students and guardians are read in the sender's own scope."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.codes import label
from foundation.messaging.acks import REMINDER
from foundation.messaging.reach_counts import covers, students_where
from foundation.models import Account, Guardian, GuardianLink, OrgUnit, Student
from foundation.models.messages import InboxItem, Message

RECEIPTS_SHOWN = 2000


def sent_by(sess: so.Session, account_id: int, limit: int = 100) -> list[tuple[Message, int, int, int]]:
    """``(message, read, replies, confirmed)``, newest first (reminders are shown with their notice)."""
    counts = (sa.func.count(InboxItem.read_at), sa.func.count(InboxItem.acked_at))
    rows = sess.execute(sa.select(Message, *counts).outerjoin(InboxItem, InboxItem.message_id == Message.id)
                        .where(Message.sender_account_id == account_id, Message.type_key != REMINDER)
                        .group_by(Message.id).order_by(Message.id.desc()).limit(limit)).all()
    replies = dict(sess.execute(sa.select(Message.reply_to_id, sa.func.count()).where(
        Message.reply_to_id.in_([m.id for m, _, _ in rows])).group_by(Message.reply_to_id)).all()) if rows else {}
    return [(m, n, replies.get(m.id, 0), acked) for m, n, acked in rows]


def own_message(sess: so.Session, account_id: int, message_id: int) -> Message | None:
    if not 0 < message_id < 2**31:
        return None
    return sess.scalar(sa.select(Message).where(Message.id == message_id, Message.sender_account_id == account_id))


def receipts(sess: so.Session, account_id: int, message_id: int) -> dict | None:
    """The sender's view of one message: who read (and confirmed) it when (the first 2,000, readers first),
    how many read and confirmed it in all, the replies, and — for families — the rows per student. None
    when it is not this person's message."""
    msg = own_message(sess, account_id, message_id)
    if msg is None:
        return None
    people = sess.execute(sa.select(Account.display_name, InboxItem.read_at, InboxItem.acked_at)
                          .join(Account, Account.id == InboxItem.account_id).where(InboxItem.message_id == msg.id)
                          .order_by(InboxItem.acked_at.is_(None), InboxItem.read_at.is_(None), InboxItem.read_at,
                                    Account.id)
                          .limit(RECEIPTS_SHOWN)).all()
    read, acked = sess.execute(sa.select(sa.func.count(InboxItem.read_at), sa.func.count(InboxItem.acked_at))
                               .where(InboxItem.message_id == msg.id)).one()
    replies = sess.scalars(sa.select(Message).where(Message.reply_to_id == msg.id).order_by(Message.id)).all()
    families = family_rows(sess, msg) if msg.ack_required else None
    return {"message": msg, "people": people, "read": read, "acked": acked, "replies": replies,
            "families": families, "waiting": msg.recipient_count - acked}


def family_rows(sess: so.Session, msg: Message) -> dict | None:
    """Per student of the audience: ``{rows: [{student_id, student, student_no, class, people: [{name,
    relation, relation_label, own, read_at, acked_at}], state: acked|waiting|no_account, acked_at}],
    counts}``. None when
    the notice was not for families of a class or school."""
    audience = msg.reach or {}
    where = students_where(audience, msg.school_id, msg.class_id)
    parents, kids = covers(audience)
    if where is None or not (parents or kids):
        return None
    students = sess.execute(sa.select(Student.id, Student.name, Student.student_no, Student.class_id).where(where)
                            .order_by(Student.class_id, Student.student_no).limit(RECEIPTS_SHOWN)).all()
    inbox = InboxItem.__table__.c
    got = {}  # (person_kind, person_id) → (read_at, acked_at) of that person's account
    for kind, pid, read_at, acked_at in sess.execute(
            sa.select(Account.person_kind, Account.person_id, inbox.read_at, inbox.acked_at)
            .join(InboxItem.__table__, inbox.account_id == Account.id)
            .where(inbox.message_id == msg.id, Account.person_kind.in_(("guardian", "student")))):
        got[(kind, pid)] = (read_at, acked_at)
    guardians: dict[int, list] = {}
    if parents:
        for sid, gid, name, relation in sess.execute(
                sa.select(GuardianLink.student_id, GuardianLink.guardian_id, Guardian.name, GuardianLink.relation_code)
                .join(Guardian, Guardian.id == GuardianLink.guardian_id).join(Student, Student.id == GuardianLink.student_id)
                .where(where).order_by(GuardianLink.student_id, GuardianLink.is_primary.desc(), GuardianLink.id)):
            if ("guardian", gid) in got:
                guardians.setdefault(sid, []).append({"name": name, "relation": relation, "own": False,
                                                      "relation_label": {lang: label("family_relation", relation, lang)
                                                                         for lang in ("zh", "en")},
                                                      "read_at": got[("guardian", gid)][0],
                                                      "acked_at": got[("guardian", gid)][1]})
    classes = dict(sess.execute(sa.select(OrgUnit.id, OrgUnit.name).where(
        OrgUnit.id.in_({s.class_id for s in students if s.class_id}))).all()) if students else {}
    rows, counts = [], {"students": len(students), "acked": 0, "waiting": 0, "no_account": 0}
    for s in students:
        people = list(guardians.get(s.id, []))
        if kids and ("student", s.id) in got:
            people.append({"name": s.name, "relation": None, "own": True, "relation_label": {},
                           "read_at": got[("student", s.id)][0],
                           "acked_at": got[("student", s.id)][1]})
        acks = [p["acked_at"] for p in people if p["acked_at"]]
        state = "acked" if acks else ("waiting" if people else "no_account")
        counts[state] += 1
        rows.append({"student_id": s.id, "student": s.name, "student_no": s.student_no,
                     "class": classes.get(s.class_id), "people": people, "state": state,
                     "acked_at": min(acks) if acks else None})
    return {"rows": rows, "counts": counts}
