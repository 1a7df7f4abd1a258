"""message center: messages, inbox rows, channel deliveries (the exactly-once ground truth),
preferences and e-mail contacts

Revision ID: 0011_messages
Revises: 0010_lowcode_forms
Create Date: 2026-11-25 18:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_messages'
down_revision = '0010_lowcode_forms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('message_contacts',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_message_contacts_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_message_contacts'))
    )
    op.create_table('message_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('type_key', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_message_preferences_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_preferences')),
    sa.UniqueConstraint('account_id', 'type_key', 'channel', name='uq_message_preferences_choice')
    )
    with op.batch_alter_table('message_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_preferences_account_id'), ['account_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type_key', sa.String(length=80), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('class_id', sa.Integer(), nullable=True),
    sa.Column('sender_account_id', sa.Integer(), nullable=True),
    sa.Column('reply_to_id', sa.Integer(), nullable=True),
    sa.Column('subject_zh', sa.String(length=300), nullable=False),
    sa.Column('body_zh', sa.Text(), nullable=False),
    sa.Column('subject_en', sa.String(length=300), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['org_units.id'], name=op.f('fk_messages_class_id_org_units')),
    sa.ForeignKeyConstraint(['reply_to_id'], ['messages.id'], name=op.f('fk_messages_reply_to_id_messages')),
    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f('fk_messages_school_id_org_units')),
    sa.ForeignKeyConstraint(['sender_account_id'], ['accounts.id'], name=op.f('fk_messages_sender_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('dedupe_key', name='uq_messages_dedupe_key')
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_reply_to_id'), ['reply_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_sender_account_id'), ['sender_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_type_key'), ['type_key'], unique=False)

    # the fan-out tables (deliveries, inbox) have no foreign keys on purpose: see foundation/models/messages.py
    op.create_table('message_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'dead')", name=op.f('ck_message_deliveries_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_deliveries')),
    sa.UniqueConstraint('message_id', 'account_id', 'channel', name='uq_message_deliveries_key')
    )
    with op.batch_alter_table('message_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_message_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_deliveries_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_deliveries_school_id'), ['school_id'], unique=False)

    op.create_table('message_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_inbox')),
    sa.UniqueConstraint('message_id', 'account_id', name='uq_message_inbox_pair')
    )
    with op.batch_alter_table('message_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_message_inbox_account_state', ['account_id', 'archived_at', 'read_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_inbox_school_id'), ['school_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('message_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_inbox_school_id'))
        batch_op.drop_index('ix_message_inbox_account_state')

    op.drop_table('message_inbox')
    with op.batch_alter_table('message_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_deliveries_school_id'))
        batch_op.drop_index(batch_op.f('ix_message_deliveries_message_id'))
        batch_op.drop_index('ix_message_deliveries_due')

    op.drop_table('message_deliveries')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_type_key'))
        batch_op.drop_index(batch_op.f('ix_messages_sender_account_id'))
        batch_op.drop_index(batch_op.f('ix_messages_school_id'))
        batch_op.drop_index(batch_op.f('ix_messages_reply_to_id'))
        batch_op.drop_index(batch_op.f('ix_messages_created_at'))
        batch_op.drop_index(batch_op.f('ix_messages_class_id'))

    op.drop_table('messages')
    with op.batch_alter_table('message_preferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_preferences_account_id'))

    op.drop_table('message_preferences')
    op.drop_table('message_contacts')
