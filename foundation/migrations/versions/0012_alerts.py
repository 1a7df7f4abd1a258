"""alert engine: cases, assignees, timeline, escalation steps, school settings and calendar

Revision ID: 0012_alerts
Revises: 0011_messages
Create Date: 2026-11-25 18:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_alerts'
down_revision = '0011_messages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_calendar_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f('fk_alert_calendar_days_school_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_calendar_days')),
    sa.UniqueConstraint('school_id', 'day', name='uq_alert_calendar_days_day')
    )
    op.create_index(op.f('ix_alert_calendar_days_school_id'), 'alert_calendar_days', ['school_id'], unique=False)
    op.create_table('alert_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deadlines', sa.JSON(), nullable=False),
    sa.Column('chain', sa.JSON(), nullable=False),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('timezone', sa.String(length=40), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f('fk_alert_settings_school_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_settings')),
    sa.UniqueConstraint('school_id', name='uq_alert_settings_school')
    )
    op.create_index(op.f('ix_alert_settings_school_id'), 'alert_settings', ['school_id'], unique=False)
    op.create_table('alert_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=True),
    sa.Column('rule_key', sa.String(length=120), nullable=False),
    sa.Column('rule_title', sa.JSON(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=True),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('open_key', sa.String(length=160), nullable=True),
    sa.Column('parent_case_id', sa.Integer(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('last_triggered_at', sa.DateTime(), nullable=False),
    sa.Column('round_no', sa.Integer(), nullable=False),
    sa.Column('round_at', sa.DateTime(), nullable=False),
    sa.Column('contact_due_at', sa.DateTime(), nullable=True),
    sa.Column('contact_at', sa.DateTime(), nullable=True),
    sa.Column('plan_due_at', sa.DateTime(), nullable=True),
    sa.Column('plan_at', sa.DateTime(), nullable=True),
    sa.Column('follow_due_at', sa.DateTime(), nullable=True),
    sa.Column('follow_at', sa.DateTime(), nullable=True),
    sa.Column('next_due_at', sa.DateTime(), nullable=True),
    sa.Column('first_action_at', sa.DateTime(), nullable=True),
    sa.Column('missed', sa.Boolean(), nullable=False),
    sa.Column('escalation_epoch', sa.Integer(), nullable=False),
    sa.Column('escalation_step', sa.Integer(), nullable=False),
    sa.Column('last_escalated_at', sa.DateTime(), nullable=True),
    sa.Column('plan', sa.Text(), nullable=True),
    sa.Column('evaluate_after', sa.Date(), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(), nullable=True),
    sa.Column('recovered', sa.Boolean(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("level IN ('red', 'yellow')", name=op.f('ck_alert_cases_level')),
    sa.ForeignKeyConstraint(['class_id'], ['org_units.id'], name=op.f('fk_alert_cases_class_id_org_units')),
    sa.ForeignKeyConstraint(['parent_case_id'], ['alert_cases.id'], name=op.f('fk_alert_cases_parent_case_id_alert_cases')),
    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f('fk_alert_cases_school_id_org_units')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_alert_cases_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_cases')),
    sa.UniqueConstraint('open_key', name='uq_alert_cases_open_key')
    )
    op.create_index(op.f('ix_alert_cases_class_id'), 'alert_cases', ['class_id'], unique=False)
    op.create_index(op.f('ix_alert_cases_next_due_at'), 'alert_cases', ['next_due_at'], unique=False)
    op.create_index(op.f('ix_alert_cases_parent_case_id'), 'alert_cases', ['parent_case_id'], unique=False)
    op.create_index(op.f('ix_alert_cases_rule_key'), 'alert_cases', ['rule_key'], unique=False)
    op.create_index(op.f('ix_alert_cases_school_id'), 'alert_cases', ['school_id'], unique=False)
    op.create_index('ix_alert_cases_school_status', 'alert_cases', ['school_id', 'status'], unique=False)
    op.create_index(op.f('ix_alert_cases_student_id'), 'alert_cases', ['student_id'], unique=False)
    op.create_table('alert_assignees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_alert_assignees_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['alert_cases.id'], name=op.f('fk_alert_assignees_case_id_alert_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_assignees')),
    sa.UniqueConstraint('case_id', 'account_id', name='uq_alert_assignees_pair')
    )
    op.create_index(op.f('ix_alert_assignees_account_id'), 'alert_assignees', ['account_id'], unique=False)
    op.create_index(op.f('ix_alert_assignees_case_id'), 'alert_assignees', ['case_id'], unique=False)
    op.create_table('alert_escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('deadline', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('fired_at', sa.DateTime(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['alert_cases.id'], name=op.f('fk_alert_escalations_case_id_alert_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f('fk_alert_escalations_school_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_escalations')),
    sa.UniqueConstraint('case_id', 'epoch', 'step', name='uq_alert_escalations_step')
    )
    op.create_index(op.f('ix_alert_escalations_case_id'), 'alert_escalations', ['case_id'], unique=False)
    op.create_index(op.f('ix_alert_escalations_school_id'), 'alert_escalations', ['school_id'], unique=False)
    op.create_table('alert_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['alert_cases.id'], name=op.f('fk_alert_events_case_id_alert_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f('fk_alert_events_school_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_events'))
    )
    op.create_index(op.f('ix_alert_events_case_id'), 'alert_events', ['case_id'], unique=False)
    op.create_index(op.f('ix_alert_events_school_id'), 'alert_events', ['school_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_alert_events_school_id'), table_name='alert_events')
    op.drop_index(op.f('ix_alert_events_case_id'), table_name='alert_events')
    op.drop_table('alert_events')
    op.drop_index(op.f('ix_alert_escalations_school_id'), table_name='alert_escalations')
    op.drop_index(op.f('ix_alert_escalations_case_id'), table_name='alert_escalations')
    op.drop_table('alert_escalations')
    op.drop_index(op.f('ix_alert_assignees_case_id'), table_name='alert_assignees')
    op.drop_index(op.f('ix_alert_assignees_account_id'), table_name='alert_assignees')
    op.drop_table('alert_assignees')
    op.drop_index(op.f('ix_alert_cases_student_id'), table_name='alert_cases')
    op.drop_index('ix_alert_cases_school_status', table_name='alert_cases')
    op.drop_index(op.f('ix_alert_cases_school_id'), table_name='alert_cases')
    op.drop_index(op.f('ix_alert_cases_rule_key'), table_name='alert_cases')
    op.drop_index(op.f('ix_alert_cases_parent_case_id'), table_name='alert_cases')
    op.drop_index(op.f('ix_alert_cases_next_due_at'), table_name='alert_cases')
    op.drop_index(op.f('ix_alert_cases_class_id'), table_name='alert_cases')
    op.drop_table('alert_cases')
    op.drop_index(op.f('ix_alert_settings_school_id'), table_name='alert_settings')
    op.drop_table('alert_settings')
    op.drop_index(op.f('ix_alert_calendar_days_school_id'), table_name='alert_calendar_days')
    op.drop_table('alert_calendar_days')
