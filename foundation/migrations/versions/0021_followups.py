"""follow-up forms: a form may belong to an app as its follow-up (a return-to-school report after a leave),
named by a key; a submission may carry the main submission it follows up

Revision ID: 0021_followups
Revises: 0020_flows
Create Date: 2026-12-12 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021_followups'
down_revision = '0020_flows'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lowcode_forms') as batch:
        batch.add_column(sa.Column('main_form_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('followup_key', sa.String(length=40), nullable=True))
        batch.create_foreign_key('fk_lowcode_forms_main_form_id_lowcode_forms', 'lowcode_forms', ['main_form_id'], ['id'],
                                 ondelete='CASCADE')
        batch.create_index('ix_lowcode_forms_main_form_id', ['main_form_id'])
    with op.batch_alter_table('lowcode_submissions') as batch:
        batch.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_lowcode_submissions_parent_id_lowcode_submissions', 'lowcode_submissions', ['parent_id'], ['id'],
                                 ondelete='CASCADE')
        batch.create_index('ix_lowcode_submissions_parent_id', ['parent_id'])


def downgrade() -> None:
    with op.batch_alter_table('lowcode_submissions') as batch:
        batch.drop_index('ix_lowcode_submissions_parent_id')
        batch.drop_constraint('fk_lowcode_submissions_parent_id_lowcode_submissions', type_='foreignkey')
        batch.drop_column('parent_id')
    with op.batch_alter_table('lowcode_forms') as batch:
        batch.drop_index('ix_lowcode_forms_main_form_id')
        batch.drop_constraint('fk_lowcode_forms_main_form_id_lowcode_forms', type_='foreignkey')
        batch.drop_column('followup_key')
        batch.drop_column('main_form_id')
