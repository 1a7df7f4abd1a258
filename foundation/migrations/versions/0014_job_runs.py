"""plugins' periodic jobs: one run per (job, school, period), claimed by inserting it

Revision ID: 0014_job_runs
Revises: 0013_lowcode_apps
Create Date: 2026-12-05 23:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_job_runs'
down_revision = '0013_lowcode_apps'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=80), nullable=False),
    sa.Column('period_start', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('worker', sa.String(length=80), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f('fk_job_runs_school_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'school_id', 'period_start', name='uq_job_runs_period')
    )
    with op.batch_alter_table('job_runs') as b:
        b.create_index(b.f('ix_job_runs_job'), ['job'], unique=False)
        b.create_index(b.f('ix_job_runs_school_id'), ['school_id'], unique=False)


def downgrade() -> None:
    op.drop_table('job_runs')
