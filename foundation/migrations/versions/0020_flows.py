"""approval flows: each approver's task per step, the submission's timeline, deputies; a submission's
place in its flow

Revision ID: 0020_flows
Revises: 0019_oidc_subjects
Create Date: 2026-12-12 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0020_flows'
down_revision = '0019_oidc_subjects'
branch_labels = None
depends_on = None


def _scoped(name: str, *columns) -> None:
    op.create_table(name,
                    sa.Column('id', sa.Integer(), nullable=False),
                    *columns,
                    sa.Column('school_id', sa.Integer(), nullable=True),
                    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f(f'fk_{name}_school_id_org_units')),
                    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')))
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{name}_school_id'), ['school_id'], unique=False)


def upgrade():
    _scoped('lowcode_flow_tasks', sa.Column('submission_id', sa.Integer(), nullable=False),
            sa.Column('step', sa.Integer(), nullable=False),
            sa.Column('step_key', sa.String(length=40), nullable=False),
            sa.Column('account_id', sa.Integer(), nullable=False),
            sa.Column('origin', sa.String(length=12), nullable=False),
            sa.Column('status', sa.String(length=10), nullable=False),
            sa.Column('decided_by', sa.Integer(), nullable=True),
            sa.Column('note', sa.String(length=300), nullable=True),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('decided_at', sa.DateTime(), nullable=True),
            sa.ForeignKeyConstraint(['submission_id'], ['lowcode_submissions.id'], ondelete='CASCADE',
                                    name=op.f('fk_lowcode_flow_tasks_submission_id_lowcode_submissions')))
    with op.batch_alter_table('lowcode_flow_tasks', schema=None) as batch_op:
        for col in ('submission_id', 'account_id', 'status'):
            batch_op.create_index(batch_op.f(f'ix_lowcode_flow_tasks_{col}'), [col], unique=False)
    _scoped('lowcode_flow_events', sa.Column('submission_id', sa.Integer(), nullable=False),
            sa.Column('at', sa.DateTime(), nullable=False),
            sa.Column('kind', sa.String(length=12), nullable=False),
            sa.Column('step_key', sa.String(length=40), nullable=True),
            sa.Column('by_account', sa.Integer(), nullable=True),
            sa.Column('by_name', sa.String(length=64), nullable=True),
            sa.Column('for_name', sa.String(length=64), nullable=True),
            sa.Column('note', sa.String(length=300), nullable=True),
            sa.Column('detail', sa.JSON(), nullable=True),
            sa.ForeignKeyConstraint(['submission_id'], ['lowcode_submissions.id'], ondelete='CASCADE',
                                    name=op.f('fk_lowcode_flow_events_submission_id_lowcode_submissions')))
    with op.batch_alter_table('lowcode_flow_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lowcode_flow_events_submission_id'), ['submission_id'], unique=False)
    _scoped('lowcode_delegations',
            sa.Column('account_id', sa.Integer(), nullable=False),
            sa.Column('deputy_id', sa.Integer(), nullable=False),
            sa.Column('starts', sa.Date(), nullable=False),
            sa.Column('ends', sa.Date(), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('cancelled_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('lowcode_delegations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lowcode_delegations_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lowcode_delegations_deputy_id'), ['deputy_id'], unique=False)
    with op.batch_alter_table('lowcode_submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('step_started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('step_reminded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('step_escalated_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('lowcode_submissions', schema=None) as batch_op:
        for col in ('step_escalated_at', 'step_reminded_at', 'step_started_at', 'flow_step'):
            batch_op.drop_column(col)
    op.drop_table('lowcode_delegations')
    op.drop_table('lowcode_flow_events')
    op.drop_table('lowcode_flow_tasks')
