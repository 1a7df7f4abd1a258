"""browser sessions kept on the server, binding-code failures per identity, login failures by username

Revision ID: 0017_web_sessions
Revises: 0016_audit_chain
Create Date: 2026-12-10 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_web_sessions'
down_revision = '0016_audit_chain'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_web_sessions_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions'))
    )
    with op.batch_alter_table('web_sessions') as b:
        b.create_index(b.f('ix_web_sessions_account_id'), ['account_id'], unique=False)
    op.create_table('fed_bind_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fed_bind_failures'))
    )
    with op.batch_alter_table('fed_bind_failures') as b:
        b.create_index('ix_fed_bind_failures_identity_at', ['identity', 'at'], unique=False)
    with op.batch_alter_table('login_failures') as b:
        b.create_index('ix_login_failures_username_at', ['username', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures') as b:
        b.drop_index('ix_login_failures_username_at')
    with op.batch_alter_table('fed_bind_failures') as b:
        b.drop_index('ix_fed_bind_failures_identity_at')
    op.drop_table('fed_bind_failures')
    with op.batch_alter_table('web_sessions') as b:
        b.drop_index(b.f('ix_web_sessions_account_id'))
    op.drop_table('web_sessions')
