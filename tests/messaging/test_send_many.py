"""``send_many``: many messages in one call give exactly the rows ``send`` gives one at a time (inbox,
deliveries with opt-outs and mandatory types, recipient counts, rendered texts), honour dedupe keys, and
write nothing when one message of the batch is wrong."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.messaging import RecipientError, send, send_many
from foundation.models import Account, Delivery, InboxItem, Membership, Message, MessagePreference
from tests.messaging.support import classes, parent_accounts, schools
from tests.messaging.test_delivery import channels


def _batch(sess, tag: str) -> list[dict]:
    s1 = schools(sess)[0]
    klass = classes(sess, s1)[0]
    staff = list(sess.scalars(sa.select(Membership.account_id).where(Membership.school_id == s1).distinct()
                              .order_by(Membership.account_id).limit(3)))
    return [
        {"type_key": "notice", "recipients": [{"parents_of_class": klass}], "school_id": s1, "class_id": klass,
         "variables": {"subject": "家长会", "body": "周五"}, "dedupe_key": f"{tag}:1"},
        {"type_key": "notice", "recipients": [{"accounts": staff}, {"account": staff[0]}], "school_id": s1,
         "variables": {"subject": "教研", "body": "周三"}, "link": "/x", "dedupe_key": f"{tag}:2"},
        {"type_key": "alert.case.digest", "recipients": [{"accounts": staff[:2]}], "school_id": s1,
         "variables": {"count": 2, "students": "甲、乙", "rule": "规则", "rule_en": "Rule", "level": "黄色预警",
                       "level_en": "yellow alert", "due": ""}, "dedupe_key": f"{tag}:3"},
        {"type_key": "notice", "recipients": [{"role": "homeroom_teacher", "school": s1}], "school_id": s1,
         "variables": {"subject": "通知", "body": "正文"}},
    ]


def _shape(sess, message_id: int) -> tuple:
    m = sess.get(Message, message_id)
    inbox = sorted((tuple(r) for r in sess.execute(sa.select(InboxItem.account_id, InboxItem.school_id)
                                                   .where(InboxItem.message_id == message_id))), key=str)
    sent = sorted((tuple(r) for r in sess.execute(sa.select(Delivery.account_id, Delivery.channel, Delivery.status)
                                                  .where(Delivery.message_id == message_id))), key=str)
    return (m.type_key, m.subject_zh, m.body_en, m.link, m.class_id, m.recipient_count, inbox, sent)


def test_send_many_gives_the_rows_send_gives(app, db_session, portal):
    channels(app, portal)  # the webhook channel on: delivery rows, except where a person switched it off
    parent_accounts(db_session, classes(db_session, schools(db_session)[0])[0])
    one_by_one = _batch(db_session, "a")
    off = one_by_one[1]["recipients"][0]["accounts"][1]
    db_session.add(MessagePreference(account_id=off, type_key="notice", channel="webhook", enabled=False))
    db_session.execute(sa.update(Account).where(Account.id == one_by_one[1]["recipients"][0]["accounts"][2])
                       .values(active=False))
    with app.app_context():
        singles = [send(db_session, **item).id for item in one_by_one]
        batched = send_many(db_session, _batch(db_session, "b"))
        db_session.commit()
    assert len(set(batched)) == 4 and not set(batched) & set(singles)
    for a, b in zip(singles, batched, strict=True):
        assert _shape(db_session, a) == _shape(db_session, b)
    staff = _shape(db_session, batched[1])
    assert staff[5] == 2 and (off, "webhook", "pending") not in staff[7] and len(staff[7]) == 1
    assert _shape(db_session, batched[0])[5] > 0  # the class's parents were reached


def test_send_many_honours_dedupe_keys_and_writes_nothing_on_a_bad_message(app, db_session):
    with app.app_context():
        first = send(db_session, **_batch(db_session, "c")[0])
        again = _batch(db_session, "c")
        again.insert(2, dict(again[1]))  # the same key twice in one call: one message
        ids = send_many(db_session, again)
        db_session.commit()
        assert ids[0] == first.id and ids[1] == ids[2] and len(set(ids)) == 4
        before = db_session.scalar(sa.select(sa.func.count()).select_from(Message))
        bad = _batch(db_session, "d") + [{"type_key": "notice", "recipients": [{"moon": 1}], "school_id": None,
                                          "variables": {"subject": "s", "body": "b"}}]
        with pytest.raises(RecipientError):
            send_many(db_session, bad)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Message)) == before
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.dedupe_key.like("c:%"))) == 3
