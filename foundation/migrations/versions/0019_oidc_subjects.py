"""oidc: each account's ``sub`` stored for life (backfilled with the subject it has today), and how the
person logged in kept with each authorization code (``amr``)

Revision ID: 0019_oidc_subjects
Revises: 0018_rosters
Create Date: 2026-12-10 09:00:00
"""
import base64
import hashlib
import hmac
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0019_oidc_subjects'
down_revision = '0018_rosters'
branch_labels = None
depends_on = None


def _secret_key() -> str:
    """The key the server runs with: the app's when migrating from ``jizuo init``, else the environment's."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config["SECRET_KEY"]
    from foundation.config import load

    return load()["SECRET_KEY"]


def _subject_until_now(secret: str, kind: str | None, person_id: int | None, account_id: int) -> str:
    """Exactly how ``sub`` was derived before it was stored (an HMAC under the secret key)."""
    who = f"{kind}:{person_id}" if person_id else f"account:{account_id}"
    key = hashlib.sha256(("jizuo-sub:" + secret).encode()).digest()
    return base64.b32encode(hmac.new(key, who.encode(), hashlib.sha256).digest()[:15]).decode().lower()


def upgrade() -> None:
    op.create_table('oidc_subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_oidc_subjects_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_subjects')),
    sa.UniqueConstraint('account_id', name=op.f('uq_oidc_subjects_account_id'))
    )
    with op.batch_alter_table('oidc_codes') as b:
        b.add_column(sa.Column('amr', sa.JSON(), nullable=True))

    conn = op.get_bind()
    accounts = sa.table('accounts', sa.column('id'), sa.column('person_kind'), sa.column('person_id'))
    rows = conn.execute(sa.select(accounts.c.id, accounts.c.person_kind, accounts.c.person_id)).all()
    if not rows:
        return
    secret = _secret_key()
    subjects = sa.table('oidc_subjects', sa.column('account_id'), sa.column('subject'), sa.column('created_at'))
    now = datetime.now(UTC).replace(tzinfo=None)
    for start in range(0, len(rows), 1000):
        conn.execute(subjects.insert(), [
            {"account_id": r.id, "subject": _subject_until_now(secret, r.person_kind, r.person_id, r.id),
             "created_at": now} for r in rows[start:start + 1000]])


def downgrade() -> None:
    with op.batch_alter_table('oidc_codes') as b:
        b.drop_column('amr')
    op.drop_table('oidc_subjects')
