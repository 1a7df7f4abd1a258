"""Outside channels in-process (no Redis): the signed webhook and e-mail through a real SMTP server,
retries with backoff through 500s and timeouts, the dead-letter list and its replay — each message
delivered exactly once per recipient and channel, with the delivery table as the ground truth."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.messaging import send
from foundation.messaging.service import requeue
from foundation.messaging.worker import run_until_idle
from foundation.models import Delivery, InboxItem, MessageContact, MessagePreference
from tests.messaging.support import WEBHOOK_SECRET, classes, parent_accounts, schools
from tests.messaging.test_inbox import as_


def channels(app, portal=None, mailbox=None, **extra):
    app.config.update({"MESSAGE_BACKOFF": 0.05, "MESSAGE_MAX_ATTEMPTS": 4, "MESSAGE_WEBHOOK_TIMEOUT": 0.5,
                       "MESSAGE_LEASE": 5, **extra})
    if portal:
        app.config.update({"MESSAGE_WEBHOOK_URL": portal.url, "MESSAGE_WEBHOOK_SECRET": WEBHOOK_SECRET})
    if mailbox:
        app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": mailbox.port, "SMTP_FROM": "notice@jizuo.test"})


def send_to_class(app, db_session, type_key="notice", key=None):
    s1 = schools(db_session)[0]
    klass = classes(db_session, s1)[0]
    with app.app_context():
        msg = send(db_session, type_key, recipients=[{"parents_of_class": klass}], school_id=s1, class_id=klass,
                   variables={"subject": "家长会", "body": "周五下午三点家长会。"}, dedupe_key=key)
        db_session.commit()
    return msg


def keys(db_session, message_id, channel):
    rows = db_session.scalars(sa.select(Delivery).where(Delivery.message_id == message_id, Delivery.channel == channel))
    return {f"{d.message_id}:{d.account_id}:{channel}": d for d in rows}


def test_webhook_and_email_once_each_with_signatures_and_preferences(app, db_session, portal, mailbox):
    channels(app, portal, mailbox)
    s1 = schools(db_session)[0]
    parents = parent_accounts(db_session, classes(db_session, s1)[0])
    for aid in parents[:10]:
        db_session.add(MessageContact(account_id=aid, email=f"p{aid}@home.test"))
    muted = parents[-1]
    db_session.add(MessagePreference(account_id=muted, type_key="notice", channel="webhook", enabled=False))
    db_session.commit()
    msg = send_to_class(app, db_session)
    urgent = send_to_class(app, db_session, "emergency")
    with app.app_context():
        run_until_idle(app)
    db_session.expire_all()
    hooks = keys(db_session, msg.id, "webhook")
    assert len(hooks) == len(parents) - 1 and f"{msg.id}:{muted}:webhook" not in hooks  # switched off
    assert f"{urgent.id}:{muted}:webhook" in keys(db_session, urgent.id, "webhook")  # mandatory: cannot be
    assert all(d.status == "sent" and d.attempts == 1 for d in hooks.values())
    assert set(portal.applied) == set(hooks) | set(keys(db_session, urgent.id, "webhook"))
    assert set(portal.applied.values()) == {1} and max(portal.seen.values()) == 1 and portal.bad_signatures == 0
    body = portal.bodies[next(iter(hooks))]
    assert body["subject"]["zh"] == "家长会" and body["type"] == "notice"
    assert len(keys(db_session, msg.id, "email")) == 10
    assert set(mailbox.ids().values()) == {1} and len(mailbox.messages) == 20
    assert "周五下午三点家长会" in mailbox.messages[0].get_content()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(InboxItem).where(
        InboxItem.message_id == msg.id)) == len(parents)


def test_500s_and_timeouts_retry_then_dead_letters_and_replay(app, demo, db_session, portal):
    channels(app, portal)
    faulty_portal(app, demo, db_session, portal)


def faulty_portal(app, demo, db_session, portal):
    """The portal answers 500 twice for some, times out once for others, never accepts two: retried,
    applied once each; the two end as dead letters, replayed from the school admin's list, applied once."""
    s1 = schools(db_session)[0]
    parents = parent_accounts(db_session, classes(db_session, s1)[0])
    msg_id = send_to_class(app, db_session).id  # the in-process worker starts on commit; the portal is up
    # (keys for this first message are delivered normally; the faults are set up for the second)
    with app.app_context():
        run_until_idle(app)
    second = [f"{msg_id + 1}:{a}:webhook" for a in parents]
    for k in second[:5]:
        portal.fail[k] = 2  # two 500s, then fine
    for k in second[5:8]:
        portal.hang[k] = 1  # one time-out, then fine
    portal.always_fail |= set(second[8:10])  # never: dead letters
    msg2 = send_to_class(app, db_session)
    assert msg2.id == msg_id + 1
    with app.app_context():
        run_until_idle(app, timeout=60)
    db_session.expire_all()
    rows = keys(db_session, msg2.id, "webhook")
    dead = {k for k, d in rows.items() if d.status == "dead"}
    assert dead == set(second[8:10]) and all(rows[k].attempts == 4 for k in dead)
    assert all(rows[k].status == "sent" for k in set(rows) - dead)
    assert all(rows[k].attempts == 3 for k in second[:5]) and all(rows[k].attempts == 2 for k in second[5:8])
    assert all(portal.applied[k] == 1 for k in set(rows) - dead) and not any(portal.applied[k] for k in dead)
    # the school admin sees the dead letters (another school's admin does not) and replays them
    admin, other = as_(app, demo, "school_admin"), as_(app, demo, "school_admin", 1)
    listed = admin.get("/api/v1/messages/dead-letters").get_json()
    assert {f"{i['message_id']}:{db_session.get(Delivery, i['id']).account_id}:webhook"
            for i in listed["items"]} == dead
    assert listed["counts"]["dead"] == 2 and "HTTP 500" in listed["items"][0]["last_error"]
    assert other.get("/api/v1/messages/dead-letters").get_json()["total"] == 0
    assert other.post(f"/api/v1/messages/dead-letters/{listed['items'][0]['id']}/replay").status_code == 404
    portal.always_fail.clear()
    assert admin.post(f"/api/v1/messages/dead-letters/{listed['items'][0]['id']}/replay").get_json() == {"replayed": 1}
    assert admin.post("/api/v1/messages/dead-letters/replay").get_json() == {"replayed": 1}
    with app.app_context():
        run_until_idle(app)
    db_session.expire_all()
    assert all(d.status == "sent" for d in keys(db_session, msg2.id, "webhook").values())
    assert all(portal.applied[k] == 1 for k in second)
    # replaying or re-queueing what was sent changes nothing and sends nothing
    before = sum(portal.seen.values())
    with app.app_context():
        assert requeue(db_session, [d.id for d in rows.values()]) == 0
        db_session.commit()
        app.extensions["jizuo.messaging"].transport.push([d.id for d in rows.values()] * 2)
        run_until_idle(app)
    assert sum(portal.seen.values()) == before
    assert admin.get("/api/v1/messages/dead-letters").get_json()["total"] == 0


def test_dedupe_key_makes_a_resend_a_no_op(app, db_session, portal):
    channels(app, portal)
    parent_accounts(db_session, classes(db_session, schools(db_session)[0])[0])
    first = send_to_class(app, db_session, key="parents-meeting-2026-11")
    again = send_to_class(app, db_session, key="parents-meeting-2026-11")
    assert first.id == again.id
    with app.app_context():
        run_until_idle(app)
    assert first.recipient_count > 50
    assert set(portal.applied.values()) == {1} and len(portal.applied) == first.recipient_count


def test_worker_command_drains_the_table(app, db_session, portal, runner):
    channels(app, portal)
    parent_accounts(db_session, classes(db_session, schools(db_session)[0])[0])
    msg = send_to_class(app, db_session)
    out = runner.invoke(["worker", "--burst", "--sweep", "0.1"])
    assert out.exit_code == 0, out.output
    assert "JIZUO_REDIS_URL is not set" in out.output and "sent " in out.output
    db_session.expire_all()
    rows = keys(db_session, msg.id, "webhook")
    assert rows and all(d.status == "sent" for d in rows.values()) and set(portal.seen.values()) == {1}


def test_deliveries_left_pending_resume_on_the_first_request(app, db_session, portal):
    """As after a restart without Redis: rows pending in the table, no thread; the first request starts one."""
    channels(app, portal)
    s1 = schools(db_session)[0]
    parents = parent_accounts(db_session, classes(db_session, s1)[0])[:5]
    msg = send(db_session, "notice", recipients=[{"accounts": parents}], variables={"subject": "s", "body": "b"},
               school_id=s1)  # outside an app context: stored, nothing dispatched
    for aid in parents:
        db_session.add(Delivery(message_id=msg.id, account_id=aid, channel="webhook", school_id=s1))
    db_session.commit()
    assert "jizuo.messaging" not in app.extensions  # nobody started anything
    app.test_client().get("/login")
    hub = app.extensions["jizuo.messaging"]
    hub._thread.join(timeout=20)
    assert set(portal.applied) == {f"{msg.id}:{a}:webhook" for a in parents}
