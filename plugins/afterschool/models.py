"""The plugin's tables, as models on the platform's ``PluginBase``: scoped by construction, so no query in
this plugin names a school to keep tenants apart (migrations/ creates exactly these).

- ``afterschool_venues``: rooms and fields with their capacity.
- ``afterschool_courses``: a term's course; ``slots`` are (weekday, period) pairs on the school's period grid,
  ``enrolled`` the seats taken, raised only by a conditional UPDATE (``enrolled < capacity``) so the database
  itself refuses the seat after the last.
- ``afterschool_windows``: a selection window (grades, opens/closes, mode ``fcfs`` or ``lottery``, at most N
  courses, whether students choose for themselves, declared priority groups).
- ``afterschool_choices``: a child's choice of a course in a window, with its preference rank (unique per child
  and window: at most N) and its state: ``applied`` (waiting for the lottery), ``enrolled``, ``waiting``,
  ``refused``.
- ``afterschool_queue``: each course's waiting list as tickets, without names (so a family's position is
  counted without reading other children's choices).
- ``afterschool_busy``: one row per enrolled child × weekday × period, unique: a clash cannot be written.
- ``afterschool_lotteries``: a lottery's record: seed, the inputs it ran on, its steps and outcome.
- ``afterschool_sessions`` / ``afterschool_attendance`` / ``afterschool_leaves`` / ``afterschool_ratings``.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import PluginBase, SchoolScoped, StudentScoped


class Venue(SchoolScoped, PluginBase):
    __tablename__ = "afterschool_venues"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    capacity: so.Mapped[int] = so.mapped_column()


class Course(SchoolScoped, PluginBase):
    __tablename__ = "afterschool_courses"
    __table_args__ = (sa.CheckConstraint("enrolled >= 0 AND enrolled <= capacity", name="enrolled_in_capacity"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    term: so.Mapped[str] = so.mapped_column(sa.String(16))
    title: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    category: so.Mapped[str] = so.mapped_column(sa.String(24))
    teacher_staff_id: so.Mapped[int | None] = so.mapped_column()
    teacher_name: so.Mapped[str] = so.mapped_column(sa.String(60))
    provider: so.Mapped[str | None] = so.mapped_column(sa.String(120))  # an outside provider's tutor
    venue_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("afterschool_venues.id"))
    slots: so.Mapped[list[Any]] = so.mapped_column(sa.JSON)  # [[weekday 1-5, period 1-n], …]
    capacity: so.Mapped[int] = so.mapped_column()
    enrolled: so.Mapped[int] = so.mapped_column(default=0)
    grades: so.Mapped[list[Any]] = so.mapped_column(sa.JSON)  # grade org-unit ids
    fee: so.Mapped[int] = so.mapped_column(default=0)  # yuan per term; 0 is free
    picture: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column()


class Window(SchoolScoped, PluginBase):
    __tablename__ = "afterschool_windows"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    term: so.Mapped[str] = so.mapped_column(sa.String(16))
    title: so.Mapped[str] = so.mapped_column(sa.String(120))
    grades: so.Mapped[list[Any]] = so.mapped_column(sa.JSON)
    opens_at: so.Mapped[datetime] = so.mapped_column()
    closes_at: so.Mapped[datetime] = so.mapped_column()
    mode: so.Mapped[str] = so.mapped_column(sa.String(8))  # fcfs, lottery
    max_courses: so.Mapped[int] = so.mapped_column()
    students_choose: so.Mapped[bool] = so.mapped_column(default=False)
    priority: so.Mapped[list[Any]] = so.mapped_column(sa.JSON)  # [{"label", "sensitive", "students": [...]}]
    course_ids: so.Mapped[list[Any] | None] = so.mapped_column(sa.JSON)  # the courses it offers (None: the term's)
    status: so.Mapped[str] = so.mapped_column(sa.String(12))  # open, allocated
    created_at: so.Mapped[datetime] = so.mapped_column()


class Choice(StudentScoped, PluginBase):
    __tablename__ = "afterschool_choices"
    __table_args__ = (sa.UniqueConstraint("window_id", "student_id", "rank", name="uq_afterschool_choices_rank"),
                      sa.UniqueConstraint("student_id", "course_id", name="uq_afterschool_choices_course"),
                      sa.Index("ix_afterschool_choices_course_status", "course_id", "status"))
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    window_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("afterschool_windows.id"))
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("afterschool_courses.id"))
    rank: so.Mapped[int] = so.mapped_column()
    status: so.Mapped[str] = so.mapped_column(sa.String(10))
    queue: so.Mapped[int | None] = so.mapped_column()  # the waiting list's order (lottery number or arrival)
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(24))  # why refused: full, clash, grade, …
    chosen_by: so.Mapped[int | None] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column()
    decided_at: so.Mapped[datetime | None] = so.mapped_column()


class Queue(SchoolScoped, PluginBase):
    """A course's waiting list without names: a family sees how many wait ahead of its child (its own choice's
    ticket against the others'), never who they are."""
    __tablename__ = "afterschool_queue"
    __table_args__ = (sa.Index("ix_afterschool_queue_course_ticket", "course_id", "ticket"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("afterschool_courses.id"))
    choice_id: so.Mapped[int] = so.mapped_column(unique=True)
    ticket: so.Mapped[int] = so.mapped_column()


class Busy(StudentScoped, PluginBase):
    __tablename__ = "afterschool_busy"
    __table_args__ = (sa.UniqueConstraint("student_id", "term", "weekday", "period", name="uq_afterschool_busy_slot"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    term: so.Mapped[str] = so.mapped_column(sa.String(16))
    weekday: so.Mapped[int] = so.mapped_column()
    period: so.Mapped[int] = so.mapped_column()
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("afterschool_courses.id"))


class Lottery(SchoolScoped, PluginBase):
    __tablename__ = "afterschool_lotteries"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    window_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("afterschool_windows.id"))
    seed: so.Mapped[str] = so.mapped_column(sa.String(40))
    inputs: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    steps: so.Mapped[list[Any]] = so.mapped_column(sa.JSON)
    outcome_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    ran_by: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    ran_at: so.Mapped[datetime] = so.mapped_column()


class Session(SchoolScoped, PluginBase):
    __tablename__ = "afterschool_sessions"
    __table_args__ = (sa.UniqueConstraint("course_id", "day", name="uq_afterschool_sessions_day"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("afterschool_courses.id"))
    day: so.Mapped[date] = so.mapped_column()
    hours: so.Mapped[float] = so.mapped_column(sa.Float)
    taken_by: so.Mapped[int | None] = so.mapped_column()
    taken_at: so.Mapped[datetime | None] = so.mapped_column()


class Attendance(StudentScoped, PluginBase):
    __tablename__ = "afterschool_attendance"
    __table_args__ = (sa.UniqueConstraint("session_id", "student_id", name="uq_afterschool_attendance_one"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("afterschool_sessions.id"))
    status: so.Mapped[str] = so.mapped_column(sa.String(8))  # present, late, leave, absent
    marked_at: so.Mapped[datetime] = so.mapped_column()


class Leave(StudentScoped, PluginBase):
    __tablename__ = "afterschool_leaves"
    __table_args__ = (sa.Index("ix_afterschool_leaves_student_day", "student_id", "day"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    day: so.Mapped[date] = so.mapped_column()
    course_id: so.Mapped[int | None] = so.mapped_column()  # None: every course that day
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    submission_id: so.Mapped[int | None] = so.mapped_column(unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column()


class Rating(StudentScoped, PluginBase):
    __tablename__ = "afterschool_ratings"
    __table_args__ = (sa.UniqueConstraint("course_id", "student_id", "rater_kind", name="uq_afterschool_ratings_one"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("afterschool_courses.id"))
    rater_kind: so.Mapped[str] = so.mapped_column(sa.String(8))  # parent, student
    stars: so.Mapped[int] = so.mapped_column()
    comment: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column()


venues, courses, windows, choices, queue, busy, lotteries, sessions, attendance, leaves, ratings = (
    m.__table__ for m in (Venue, Course, Window, Choice, Queue, Busy, Lottery, Session, Attendance, Leave, Rating))
TABLES = (ratings, leaves, attendance, sessions, lotteries, busy, queue, choices, windows, courses, venues)  # children first
