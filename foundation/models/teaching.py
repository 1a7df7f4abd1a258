"""What a roster says about teaching beyond the org tree: academic sessions (school years, semesters,
terms), courses, the terms a class runs in, and the classes a student attends besides the homeroom one
(subject classes, 教学班). Written by the OneRoster import, read by the school calendar and by reach."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base
from foundation.models.base import SchoolScoped, Timestamps
from foundation.tenancy import one_of

if TYPE_CHECKING:
    from foundation.tenancy import Scope

SESSION_KINDS = ("schoolYear", "semester", "term", "gradingPeriod")


class AcademicSession(SchoolScoped, Timestamps, Base):
    """A school year, semester, term or grading period with its dates. ``school_id`` NULL: the district's,
    for every school."""

    __tablename__ = "academic_sessions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(120))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    start_date: so.Mapped[date] = so.mapped_column()
    end_date: so.Mapped[date] = so.mapped_column()
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("academic_sessions.id"))
    school_year: so.Mapped[int | None] = so.mapped_column()
    active: so.Mapped[bool] = so.mapped_column(default=True)

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        return sa.or_(cls.school_id.is_(None), one_of(cls.school_id, scope.school_ids))


class Course(SchoolScoped, Timestamps, Base):
    """A course of a school (数学 · 九年级); its classes name it (``OrgUnit.course_id``)."""

    __tablename__ = "courses"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(120))
    code: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    grades: so.Mapped[str | None] = so.mapped_column(sa.String(60))  # CEDS codes as the roster gives them
    subjects: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    subject_codes: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    school_year_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("academic_sessions.id"))
    active: so.Mapped[bool] = so.mapped_column(default=True)


class ClassTerm(SchoolScoped, Base):
    """A class runs in an academic session (its termSourcedIds)."""

    __tablename__ = "class_terms"
    __table_args__ = (sa.UniqueConstraint("class_id", "session_id", name="uq_class_terms_pair"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    class_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("academic_sessions.id", ondelete="CASCADE"))


class StudentClass(SchoolScoped, Base):
    """A student attends a class that is not their homeroom (``Student.class_id``): a subject class. Its
    teachers reach the student as they reach their homeroom class's students."""

    __tablename__ = "student_classes"
    __table_args__ = (sa.UniqueConstraint("student_id", "class_id", name="uq_student_classes_pair"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    student_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), index=True)
    class_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
