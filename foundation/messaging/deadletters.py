"""The dead-letter list: deliveries that used up their attempts. A school admin sees their school's, the
district admin every school's; both may replay them (``service.requeue``) once the portal or the mail
server is fixed."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import Account
from foundation.models.messages import Delivery


def visible(school_ids: set[int] | None) -> sa.Select:
    """Dead deliveries, newest first; ``school_ids`` None means every school (the district)."""
    stmt = sa.select(Delivery).where(Delivery.status == "dead").order_by(Delivery.id.desc())
    if school_ids is not None:
        stmt = stmt.where(Delivery.school_id.in_(school_ids))
    return stmt


def view(sess: so.Session, rows: list[Delivery]) -> list[dict]:
    ids = {r.account_id for r in rows}
    names = dict(sess.execute(sa.select(Account.id, Account.username).where(Account.id.in_(ids))).all()) if ids else {}
    return [{"id": r.id, "message_id": r.message_id, "channel": r.channel, "account": names.get(r.account_id),
             "school_id": r.school_id, "attempts": r.attempts, "last_error": r.last_error,
             "subject": r.message.subject_zh, "type": r.message.type_key,
             "created_at": r.created_at.isoformat() + "Z"} for r in rows]


def counts(sess: so.Session, school_ids: set[int] | None) -> dict[str, int]:
    """Deliveries by status (for the page's summary and for health checks)."""
    stmt = sa.select(Delivery.status, sa.func.count()).group_by(Delivery.status)
    if school_ids is not None:
        stmt = stmt.where(Delivery.school_id.in_(school_ids))
    return {status: n for status, n in sess.execute(stmt)}



def scope_of(p) -> set[int] | None:
    """The schools whose dead letters ``p`` manages; None: every school (the district)."""
    if p.can("messages.send.district"):
        return None
    return {s for s in p.school_ids() if p.can("messages.deadletter.manage", s)}
