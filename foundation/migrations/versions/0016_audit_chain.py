"""the audit log as a hash chain: each row's place, previous hash and hash; the chain's head; signed
checkpoints left by pruning. Existing rows are chained in the order of their ids.

Revision ID: 0016_audit_chain
Revises: 0015_notice_acks
Create Date: 2026-12-10 09:00:00
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = '0016_audit_chain'
down_revision = '0015_notice_acks'
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")
GENESIS = "0" * 64
CONTENT = ("seq", "at", "account_id", "username", "action", "resource_type", "resource_id", "school_id",
           "endpoint", "ip", "detail")


def _hash(row: dict, prev: str) -> str:
    """foundation.models.audit.row_hash as it was when this migration was written (kept here, frozen)."""
    doc = {name: row[name] for name in CONTENT}
    doc["at"] = doc["at"].isoformat(timespec="microseconds")
    if doc["detail"] is not None:
        doc["detail"] = json.loads(json.dumps(doc["detail"]))
    doc["prev"] = prev
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table('audit_log') as b:
        b.add_column(sa.Column('seq', SEQ, nullable=True))
        b.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        b.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        b.create_unique_constraint(b.f('uq_audit_log_seq'), ['seq'])
    op.create_table('audit_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', SEQ, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain'))
    )
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', SEQ, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('pruned', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_checkpoints_seq'))
    )
    log = sa.table('audit_log', sa.column('id', sa.Integer), *(sa.column(n) for n in CONTENT if n not in
                   ('at', 'detail')), sa.column('at', sa.DateTime), sa.column('detail', sa.JSON),
                   sa.column('prev_hash', sa.String), sa.column('hash', sa.String))
    conn = op.get_bind()
    seq, prev, last_id = 0, GENESIS, 0
    while True:  # existing rows, in id order, a thousand at a time
        rows = conn.execute(sa.select(log).where(log.c.id > last_id).order_by(log.c.id).limit(1000)).mappings().all()
        if not rows:
            break
        changes = []
        for row in rows:
            seq += 1
            row = dict(row, seq=seq)
            h = _hash(row, prev)
            changes.append({"rid": row["id"], "s": seq, "p": prev, "h": h})
            prev, last_id = h, row["id"]
        conn.execute(log.update().where(log.c.id == sa.bindparam("rid"))
                     .values(seq=sa.bindparam("s"), prev_hash=sa.bindparam("p"), hash=sa.bindparam("h")), changes)
    conn.execute(sa.table('audit_chain', sa.column('id'), sa.column('seq'), sa.column('hash')).insert()
                 .values(id=1, seq=seq, hash=prev))


def downgrade() -> None:
    op.drop_table('audit_checkpoints')
    op.drop_table('audit_chain')
    with op.batch_alter_table('audit_log') as b:
        b.drop_constraint(b.f('uq_audit_log_seq'), type_='unique')
        b.drop_column('hash')
        b.drop_column('prev_hash')
        b.drop_column('seq')
