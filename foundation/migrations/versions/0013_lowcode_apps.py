"""low-code apps: app parts on forms and versions, submissions' subject and status, approvals

Revision ID: 0013_lowcode_apps
Revises: 0012_alerts
Create Date: 2026-11-25 18:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_lowcode_apps'
down_revision = '0012_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lowcode_forms') as b:
        b.add_column(sa.Column('draft_app', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table('lowcode_form_versions') as b:
        b.add_column(sa.Column('app', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table('lowcode_submissions') as b:
        b.add_column(sa.Column('student_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('class_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('effects', sa.JSON(), nullable=True))
        b.add_column(sa.Column('status', sa.String(length=10), nullable=False, server_default='submitted'))
        b.create_index(b.f('ix_lowcode_submissions_student_id'), ['student_id'], unique=False)
        b.create_index(b.f('ix_lowcode_submissions_class_id'), ['class_id'], unique=False)
        b.create_foreign_key('fk_lowcode_submissions_student_id_students', 'students', ['student_id'], ['id'])
        b.create_foreign_key('fk_lowcode_submissions_class_id_org_units', 'org_units', ['class_id'], ['id'])
    op.create_table('lowcode_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('by_account', sa.Integer(), nullable=True),
    sa.Column('by_name', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['lowcode_submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lowcode_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lowcode_approvals_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lowcode_approvals_submission_id'), ['submission_id'], unique=False)


def downgrade() -> None:
    op.drop_table('lowcode_approvals')
    with op.batch_alter_table('lowcode_submissions') as b:
        b.drop_constraint('fk_lowcode_submissions_class_id_org_units', type_='foreignkey')
        b.drop_constraint('fk_lowcode_submissions_student_id_students', type_='foreignkey')
        b.drop_index(b.f('ix_lowcode_submissions_class_id'))
        b.drop_index(b.f('ix_lowcode_submissions_student_id'))
        b.drop_column('status')
        b.drop_column('effects')
        b.drop_column('class_id')
        b.drop_column('student_id')
    with op.batch_alter_table('lowcode_form_versions') as b:
        b.drop_column('app')
    with op.batch_alter_table('lowcode_forms') as b:
        b.drop_column('draft_app')
