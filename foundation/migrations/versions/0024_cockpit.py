"""cockpit figures cache (issue 21): each figure's cells per (figure, school, period), with when they were
computed, whether an event made them stale and, for a period, the local date it ends (past periods keep)

Revision ID: 0024_cockpit
Revises: 0023_principal_versions
Create Date: 2026-12-06 08:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_cockpit'
down_revision = '0023_principal_versions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cockpit_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('figure', sa.String(length=120), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('cells', sa.JSON(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f('fk_cockpit_figures_school_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cockpit_figures')),
    sa.UniqueConstraint('figure', 'school_id', 'period', name='uq_cockpit_figures_cell')
    )
    with op.batch_alter_table('cockpit_figures') as b:
        b.create_index(b.f('ix_cockpit_figures_period'), ['period'], unique=False)
        b.create_index(b.f('ix_cockpit_figures_school_id'), ['school_id'], unique=False)


def downgrade() -> None:
    op.drop_table('cockpit_figures')
