"""The audit log: who read or changed which sensitive record, when, through which endpoint — as a hash chain.

Every row carries ``hash`` = SHA-256 of its content (canonical JSON, :func:`row_hash`) together with the
previous row's hash (``prev_hash``), at its place ``seq`` in one chain for the whole district. The place
and the hashes are given when the transaction that wrote the row commits (:func:`_chain_new_rows`, a
``before_commit`` listener of every session): the chain's head (``audit_chain``, one row) is locked by an
UPDATE, so concurrent writers (threads, processes) append one after another, and the lock is held only for
the commit itself. ``jizuo audit verify`` walks the chain (foundation/audit_chain.py); ``jizuo audit prune``
deletes old rows and leaves a signed checkpoint (``audit_checkpoints``) that verification starts from.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow

SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")
GENESIS = "0" * 64  # the "previous hash" of the first row of a chain that was never pruned


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    account_id: so.Mapped[int | None] = so.mapped_column(index=True)
    username: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    action: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)  # e.g. people.student.read
    resource_type: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    resource_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    school_id: so.Mapped[int | None] = so.mapped_column(index=True)
    endpoint: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    detail: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    # the chain: given at commit; a row without them was not written by the platform
    seq: so.Mapped[int | None] = so.mapped_column(SEQ, unique=True)
    prev_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))


class AuditChain(Base):
    """The chain's head: the last place given and its hash (one row, id 1). Appending locks it."""

    __tablename__ = "audit_chain"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    seq: so.Mapped[int] = so.mapped_column(SEQ)
    hash: so.Mapped[str] = so.mapped_column(sa.String(64))


class AuditCheckpoint(Base):
    """What a prune left: the last pruned row's place and hash, signed (JWS, RS256) with the server's key."""

    __tablename__ = "audit_checkpoints"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    seq: so.Mapped[int] = so.mapped_column(SEQ, unique=True)
    hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    pruned: so.Mapped[int] = so.mapped_column()  # rows this prune deleted
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    kid: so.Mapped[str] = so.mapped_column(sa.String(64))
    signature: so.Mapped[str] = so.mapped_column(sa.Text)  # compact JWS over {seq, hash, pruned, before, at}


# ---- the hash ------------------------------------------------------------------------------------------
CONTENT = ("seq", "at", "account_id", "username", "action", "resource_type", "resource_id", "school_id",
           "endpoint", "ip", "detail")


def row_hash(row: Any, prev: str) -> str:
    """SHA-256 (hex) of the row's content and the previous row's hash, as canonical JSON: keys sorted, no
    spaces, UTF-8, ``at`` as ``YYYY-MM-DDTHH:MM:SS.ffffff`` (UTC), ``detail`` as stored. Anyone can recompute
    it from a row: docs/security.md shows how."""
    doc = {name: getattr(row, name) for name in CONTENT}
    doc["at"] = doc["at"].isoformat(timespec="microseconds")
    if doc["detail"] is not None:  # as the database gives it back: JSON types only, string keys
        doc["detail"] = json.loads(json.dumps(doc["detail"]))
    doc["prev"] = prev
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


# ---- appending at commit -------------------------------------------------------------------------------
_NEW = "jizuo_audit_new"  # session.info: the audit rows added in this transaction, in the order they came


@sa.event.listens_for(so.Session, "transient_to_pending")
def _note_new_row(sess: so.Session, obj: Any) -> None:
    if isinstance(obj, AuditEntry):
        sess.info.setdefault(_NEW, {})[id(obj)] = obj


@sa.event.listens_for(so.Session, "before_commit")
def _chain_new_rows(sess: so.Session) -> None:
    """Give the transaction's new audit rows their places and hashes, last thing before it commits. Other
    writes are flushed first, so that while a transaction holds the head it waits for nothing else."""
    if sess.in_nested_transaction():
        return
    rows = [e for e in sess.info.pop(_NEW, {}).values()
            if e.seq is None and sa.inspect(e).session is sess and not sa.inspect(e).deleted]
    if not rows:
        return
    unsent = [e for e in rows if sa.inspect(e).pending]  # not inserted yet: insert them whole, once
    for e in unsent:
        sess.expunge(e)
    sess.flush()
    # the head through the transaction's own connection: a table no school owns, and a tenth of the cost of an
    # ORM statement (docs/security.md has the figures)
    conn, head_t = sess.connection(), AuditChain.__table__
    head = conn.execute(sa.update(head_t).where(head_t.c.id == 1).values(seq=head_t.c.seq + len(rows))
                        .returning(head_t.c.seq, head_t.c.hash)).first()
    if head is None:  # a schema made without the migrations: start the chain
        conn.execute(sa.insert(head_t).values(id=1, seq=len(rows), hash=GENESIS))
        head = (len(rows), GENESIS)
    seq, prev = head[0] - len(rows), head[1]
    for e in rows:
        seq += 1
        e.at = e.at or utcnow()
        e.seq, e.prev_hash = seq, prev
        e.hash = prev = row_hash(e, prev)
    conn.execute(sa.update(head_t).where(head_t.c.id == 1).values(hash=prev))
    sess.add_all(unsent)


@sa.event.listens_for(so.Session, "after_transaction_end")
def _forget(sess: so.Session, trans: so.SessionTransaction) -> None:
    if trans.parent is None:
        sess.info.pop(_NEW, None)
