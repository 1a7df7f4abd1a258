"""enrolment history and school facilities for the forecast and the balanced-development map (issue 21):
students per grade per school per school year, a school's facilities and places (the school base library's
facility elements), and the district's standard per student by school stage

Revision ID: 0025_planning
Revises: 0024_cockpit
Create Date: 2026-12-06 08:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0025_planning'
down_revision = '0024_cockpit'
branch_labels = None
depends_on = None

FACILITIES = (
    ('site_area', sa.Float), ('building_area', sa.Float), ('teaching_area', sa.Float), ('sports_area', sa.Float),
    ('classrooms', sa.Integer), ('multimedia_rooms', sa.Integer), ('lab_rooms', sa.Integer),
    ('music_rooms', sa.Integer), ('art_rooms', sa.Integer), ('computer_rooms', sa.Integer),
    ('library_books', sa.Integer), ('equipment_value', sa.Float), ('entry_places', sa.Integer),
    ('total_places', sa.Integer),
)


def _school_id(table: str) -> sa.Column:
    return sa.Column('school_id', sa.Integer(), sa.ForeignKey('org_units.id', name=f'fk_{table}_school_id_org_units'),
                     nullable=True)


def upgrade() -> None:
    op.create_table(
        'school_enrolments',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('school_year', sa.Integer(), nullable=False),
        sa.Column('grade', sa.SmallInteger(), nullable=False),
        sa.Column('students', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=40), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        _school_id('school_enrolments'),
        sa.UniqueConstraint('school_id', 'school_year', 'grade', name='uq_school_enrolments_year_grade'),
        sa.CheckConstraint('students >= 0', name='ck_school_enrolments_students'),
        sa.CheckConstraint('grade BETWEEN 1 AND 12', name='ck_school_enrolments_grade'),
        sa.PrimaryKeyConstraint('id', name='pk_school_enrolments'),
    )
    op.create_index('ix_school_enrolments_school_id', 'school_enrolments', ['school_id'])
    op.create_table(
        'school_facilities',
        sa.Column('id', sa.Integer(), primary_key=True),
        *[sa.Column(name, kind(), nullable=True) for name, kind in FACILITIES],
        sa.Column('source', sa.String(length=40), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        _school_id('school_facilities'),
        sa.UniqueConstraint('school_id', name='uq_school_facilities_school'),
        sa.PrimaryKeyConstraint('id', name='pk_school_facilities'),
    )
    op.create_index('ix_school_facilities_school_id', 'school_facilities', ['school_id'])
    op.create_table(
        'facility_standards',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('indicator', sa.String(length=40), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('stage', 'indicator', name='uq_facility_standards_stage_indicator'),
        sa.PrimaryKeyConstraint('id', name='pk_facility_standards'),
    )


def downgrade() -> None:
    op.drop_table('facility_standards')
    op.drop_index('ix_school_facilities_school_id', table_name='school_facilities')
    op.drop_table('school_facilities')
    op.drop_index('ix_school_enrolments_school_id', table_name='school_enrolments')
    op.drop_table('school_enrolments')
