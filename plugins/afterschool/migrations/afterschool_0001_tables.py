"""afterschool: venues, courses, selection windows, choices, waiting-list tickets, busy slots, lotteries, sessions, attendance,
leaves, ratings

Revision ID: afterschool_0001
Revises: (none: the root of the "afterschool" branch; depends on the core's plugin_installs)
"""
import sqlalchemy as sa
from alembic import op

revision = "afterschool_0001"
down_revision = None
branch_labels = ("afterschool",)
depends_on = "0008_plugin_installs"


def _id_school() -> list:
    return [sa.Column("id", sa.Integer(), primary_key=True), sa.Column("school_id", sa.Integer(), nullable=False, index=True)]


def _student() -> sa.Column:
    return sa.Column("student_id", sa.Integer(), nullable=False, index=True)


def upgrade() -> None:
    op.create_table("afterschool_venues", *_id_school(), sa.Column("name", sa.String(120), nullable=False),
                    sa.Column("capacity", sa.Integer(), nullable=False))
    op.create_table(
        "afterschool_courses", *_id_school(),
        sa.Column("term", sa.String(16), nullable=False), sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.String(1000)), sa.Column("category", sa.String(24), nullable=False),
        sa.Column("teacher_staff_id", sa.Integer()), sa.Column("teacher_name", sa.String(60), nullable=False),
        sa.Column("provider", sa.String(120)),
        sa.Column("venue_id", sa.Integer(), sa.ForeignKey("afterschool_venues.id"), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False), sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False), sa.Column("grades", sa.JSON(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False), sa.Column("picture", sa.String(300)),
        sa.Column("active", sa.Boolean(), nullable=False), sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("enrolled >= 0 AND enrolled <= capacity", name="ck_afterschool_courses_enrolled_in_capacity"))
    op.create_table(
        "afterschool_windows", *_id_school(),
        sa.Column("term", sa.String(16), nullable=False), sa.Column("title", sa.String(120), nullable=False),
        sa.Column("grades", sa.JSON(), nullable=False), sa.Column("opens_at", sa.DateTime(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=False), sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("max_courses", sa.Integer(), nullable=False),
        sa.Column("students_choose", sa.Boolean(), nullable=False), sa.Column("priority", sa.JSON(), nullable=False),
        sa.Column("course_ids", sa.JSON()),
        sa.Column("status", sa.String(12), nullable=False), sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_table(
        "afterschool_choices", *_id_school(), _student(),
        sa.Column("window_id", sa.Integer(), sa.ForeignKey("afterschool_windows.id"), nullable=False),
        sa.Column("course_id", sa.Integer(), sa.ForeignKey("afterschool_courses.id"), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False), sa.Column("status", sa.String(10), nullable=False),
        sa.Column("queue", sa.Integer()), sa.Column("reason", sa.String(24)), sa.Column("chosen_by", sa.Integer()),
        sa.Column("created_at", sa.DateTime(), nullable=False), sa.Column("decided_at", sa.DateTime()),
        sa.UniqueConstraint("window_id", "student_id", "rank", name="uq_afterschool_choices_rank"),
        sa.UniqueConstraint("student_id", "course_id", name="uq_afterschool_choices_course"))
    op.create_index("ix_afterschool_choices_course_status", "afterschool_choices", ["course_id", "status"])
    op.create_table(
        "afterschool_queue", *_id_school(),
        sa.Column("course_id", sa.Integer(), sa.ForeignKey("afterschool_courses.id"), nullable=False),
        sa.Column("choice_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("ticket", sa.Integer(), nullable=False))
    op.create_index("ix_afterschool_queue_course_ticket", "afterschool_queue", ["course_id", "ticket"])
    op.create_table(
        "afterschool_busy", *_id_school(), _student(),
        sa.Column("term", sa.String(16), nullable=False), sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), sa.ForeignKey("afterschool_courses.id"), nullable=False),
        sa.UniqueConstraint("student_id", "term", "weekday", "period", name="uq_afterschool_busy_slot"))
    op.create_table(
        "afterschool_lotteries", *_id_school(),
        sa.Column("window_id", sa.Integer(), sa.ForeignKey("afterschool_windows.id"), nullable=False),
        sa.Column("seed", sa.String(40), nullable=False), sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False), sa.Column("outcome_hash", sa.String(64), nullable=False),
        sa.Column("ran_by", sa.String(120)), sa.Column("ran_at", sa.DateTime(), nullable=False))
    op.create_table(
        "afterschool_sessions", *_id_school(),
        sa.Column("course_id", sa.Integer(), sa.ForeignKey("afterschool_courses.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False), sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("taken_by", sa.Integer()), sa.Column("taken_at", sa.DateTime()),
        sa.UniqueConstraint("course_id", "day", name="uq_afterschool_sessions_day"))
    op.create_table(
        "afterschool_attendance", *_id_school(), _student(),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("afterschool_sessions.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False), sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("session_id", "student_id", name="uq_afterschool_attendance_one"))
    op.create_table(
        "afterschool_leaves", *_id_school(), _student(),
        sa.Column("day", sa.Date(), nullable=False), sa.Column("course_id", sa.Integer()),
        sa.Column("reason", sa.String(300)), sa.Column("submission_id", sa.Integer(), unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_index("ix_afterschool_leaves_student_day", "afterschool_leaves", ["student_id", "day"])
    op.create_table(
        "afterschool_ratings", *_id_school(), _student(),
        sa.Column("course_id", sa.Integer(), sa.ForeignKey("afterschool_courses.id"), nullable=False),
        sa.Column("rater_kind", sa.String(8), nullable=False), sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(500)), sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("course_id", "student_id", "rater_kind", name="uq_afterschool_ratings_one"))


def downgrade() -> None:
    for name in ("afterschool_ratings", "afterschool_leaves", "afterschool_attendance", "afterschool_sessions",
                 "afterschool_lotteries", "afterschool_busy", "afterschool_queue", "afterschool_choices", "afterschool_windows",
                 "afterschool_courses", "afterschool_venues"):
        op.drop_table(name)
