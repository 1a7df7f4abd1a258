"""``plugin_api.send_messages``: a plugin sends one message per item of a batch in one call, with the rows
``send_message`` gives one at a time; only for a school in its reach; nothing written on a bad item."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import plugin_api
from foundation.models import InboxItem, Membership, Message
from foundation.tenancy import Scope, TenancyError, set_scope
from tests.messaging.support import classes, parent_accounts, schools
from tests.messaging.test_send_many import _shape


def _items(sess, school: int, tag: str) -> list[dict]:
    klass = classes(sess, school)[0]
    staff = list(sess.scalars(sa.select(Membership.account_id).where(Membership.school_id == school).distinct()
                              .order_by(Membership.account_id).limit(3)))
    return [{"recipients": [{"parents_of_class": klass}], "variables": {"subject": "家长会", "body": "周五"},
             "class_id": klass, "dedupe_key": f"{tag}:1"},
            {"recipients": [{"accounts": staff}], "variables": {"subject": "教研", "body": "周三"}, "link": "/x"},
            {"recipients": [{"account": staff[0]}], "variables": {"subject": "值班", "body": "周日"},
             "dedupe_key": f"{tag}:3"}]


def _count(sess) -> tuple[int, int]:
    return (sess.scalar(sa.select(sa.func.count()).select_from(Message)),
            sess.scalar(sa.select(sa.func.count()).select_from(InboxItem)))


def test_a_plugin_sends_a_batch_with_the_rows_send_message_gives(app, db_session):
    s1, s2 = schools(db_session)[:2]
    parent_accounts(db_session, classes(db_session, s1)[0])
    db_session.commit()
    with app.app_context(), so.Session(bind=app.extensions["jizuo.engine"]) as sess:
        set_scope(sess, Scope.school(s1))  # a plugin's job acting for one school
        singles = [plugin_api.send_message(sess, "notice", school_id=s1, **item).id
                   for item in _items(db_session, s1, "a")]
        batched = plugin_api.send_messages(sess, "notice", _items(db_session, s1, "b"), school_id=s1)
        again = plugin_api.send_messages(sess, "notice", _items(db_session, s1, "b")[:1], school_id=s1)
        before = _count(sess)
        with pytest.raises(TenancyError):  # another school's messages: not from this plugin's reach
            plugin_api.send_messages(sess, "notice", _items(db_session, s1, "c"), school_id=s2)
        with pytest.raises(TypeError, match=r"batch\[1\]"):  # a key send_message does not take
            plugin_api.send_messages(sess, "notice", [_items(db_session, s1, "d")[0], {"recipients": [],
                                     "variables": {}, "school_id": s2}], school_id=s1)
        with pytest.raises(ValueError):  # a missing variable, in the last item: nothing of the batch written
            plugin_api.send_messages(sess, "notice", [*_items(db_session, s1, "e"), {
                "recipients": [{"account": 1}], "variables": {"subject": "缺正文"}}], school_id=s1)
        assert _count(sess) == before
        sess.commit()
    assert len(set(batched)) == 3 and not set(batched) & set(singles)
    assert again == batched[:1]  # the same dedupe key: the stored message, nothing new
    for a, b in zip(singles, batched, strict=True):
        assert _shape(db_session, a) == _shape(db_session, b)
    assert _shape(db_session, batched[0])[5] > 0 and _shape(db_session, batched[1])[5] == 3
