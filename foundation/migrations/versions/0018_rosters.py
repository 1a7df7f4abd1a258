"""what a OneRoster bundle says about teaching: academic sessions, courses, class terms, subject classes,
class types, and the phone a roster gives for a person with an account

Revision ID: 0018_rosters
Revises: 0017_web_sessions
Create Date: 2026-12-10 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_rosters'
down_revision = '0017_web_sessions'
branch_labels = None
depends_on = None


def _scoped(name: str) -> list:
    return [sa.Column('school_id', sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(['school_id'], ['org_units.id'], name=op.f(f'fk_{name}_school_id_org_units'))]


def _stamps() -> list:
    return [sa.Column('created_at', sa.DateTime(), nullable=False), sa.Column('updated_at', sa.DateTime(), nullable=False)]


def upgrade() -> None:
    op.create_table('academic_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('school_year', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    *_stamps(), *_scoped('academic_sessions'),
    sa.ForeignKeyConstraint(['parent_id'], ['academic_sessions.id'],
                            name=op.f('fk_academic_sessions_parent_id_academic_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academic_sessions'))
    )
    op.create_index(op.f('ix_academic_sessions_school_id'), 'academic_sessions', ['school_id'], unique=False)
    op.create_table('courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=True),
    sa.Column('grades', sa.String(length=60), nullable=True),
    sa.Column('subjects', sa.String(length=200), nullable=True),
    sa.Column('subject_codes', sa.String(length=200), nullable=True),
    sa.Column('school_year_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    *_stamps(), *_scoped('courses'),
    sa.ForeignKeyConstraint(['school_year_id'], ['academic_sessions.id'],
                            name=op.f('fk_courses_school_year_id_academic_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses'))
    )
    op.create_index(op.f('ix_courses_school_id'), 'courses', ['school_id'], unique=False)
    op.create_table('class_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    *_scoped('class_terms'),
    sa.ForeignKeyConstraint(['class_id'], ['org_units.id'], name=op.f('fk_class_terms_class_id_org_units')),
    sa.ForeignKeyConstraint(['session_id'], ['academic_sessions.id'],
                            name=op.f('fk_class_terms_session_id_academic_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_terms')),
    sa.UniqueConstraint('class_id', 'session_id', name='uq_class_terms_pair')
    )
    op.create_index(op.f('ix_class_terms_class_id'), 'class_terms', ['class_id'], unique=False)
    op.create_index(op.f('ix_class_terms_school_id'), 'class_terms', ['school_id'], unique=False)
    op.create_table('student_classes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    *_scoped('student_classes'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_student_classes_student_id_students'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['class_id'], ['org_units.id'], name=op.f('fk_student_classes_class_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_student_classes')),
    sa.UniqueConstraint('student_id', 'class_id', name='uq_student_classes_pair')
    )
    for col in ('student_id', 'class_id', 'school_id'):
        op.create_index(op.f(f'ix_student_classes_{col}'), 'student_classes', [col], unique=False)
    with op.batch_alter_table('org_units') as b:
        b.add_column(sa.Column('class_type', sa.String(length=16), nullable=True))
        b.add_column(sa.Column('course_id', sa.Integer(), nullable=True))
        b.create_foreign_key(b.f('fk_org_units_course_id_courses'), 'courses', ['course_id'], ['id'])
    with op.batch_alter_table('message_contacts') as b:
        b.add_column(sa.Column('phone_enc', sa.Text(), nullable=True))
    # a OneRoster course used to be remembered as its grade unit; courses now have their own rows
    op.execute("UPDATE external_ids SET entity = 'grade_course' WHERE system = 'oneroster' AND entity = 'course'")


def downgrade() -> None:
    op.execute("DELETE FROM external_ids WHERE system = 'oneroster' AND entity IN ('course', 'academicSession')")
    op.execute("UPDATE external_ids SET entity = 'course' WHERE system = 'oneroster' AND entity = 'grade_course'")
    with op.batch_alter_table('message_contacts') as b:
        b.drop_column('phone_enc')
    with op.batch_alter_table('org_units') as b:
        b.drop_constraint(b.f('fk_org_units_course_id_courses'), type_='foreignkey')
        b.drop_column('course_id')
        b.drop_column('class_type')
    op.drop_table('student_classes')
    op.drop_table('class_terms')
    op.drop_table('courses')
    op.drop_table('academic_sessions')
