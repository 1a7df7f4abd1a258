"""notices families acknowledge (确认收到) with one reminder, the reach told at sending, and attachments

Revision ID: 0015_notice_acks
Revises: 0014_job_runs
Create Date: 2026-12-08 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_notice_acks'
down_revision = '0014_job_runs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as b:
        b.add_column(sa.Column('ack_required', sa.Boolean(), server_default=sa.false(), nullable=False))
        b.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))
        b.add_column(sa.Column('reach', sa.JSON(), nullable=True))
    with op.batch_alter_table('message_inbox') as b:
        b.add_column(sa.Column('acked_at', sa.DateTime(), nullable=True))
    op.create_table('message_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_attachments_message_id_messages'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_attachments')),
    sa.UniqueConstraint('message_id', 'key', name='uq_message_attachments_key')
    )
    with op.batch_alter_table('message_attachments') as b:
        b.create_index(b.f('ix_message_attachments_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    op.drop_table('message_attachments')
    with op.batch_alter_table('message_inbox') as b:
        b.drop_column('acked_at')
    with op.batch_alter_table('messages') as b:
        b.drop_column('reach')
        b.drop_column('reminded_at')
        b.drop_column('ack_required')
