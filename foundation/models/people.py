"""Base-library people: students, staff, guardians and the guardian–student relation.

People are records; logging in is done by accounts (see accounts.py).
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base
from foundation.models.base import SchoolScoped, Timestamps
from foundation.models.org import OrgUnit
from foundation.tenancy import one_of

if TYPE_CHECKING:
    from foundation.tenancy import Scope


class Student(SchoolScoped, Timestamps, Base):
    __tablename__ = "students"
    __table_args__ = (
        sa.UniqueConstraint("school_id", "student_no", name="uq_students_school_no"),
        # the roster and school-wide list order: (school, class, student number)
        sa.Index("ix_students_school_class_no", "school_id", "class_id", "student_no"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    student_no: so.Mapped[str] = so.mapped_column(sa.String(32))  # 学号
    name: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    sex_code: so.Mapped[str] = so.mapped_column(sa.String(1))  # GB/T 2261.1
    ethnicity_code: so.Mapped[str] = so.mapped_column(sa.String(2))  # GB/T 3304
    birth_date: so.Mapped[date | None] = so.mapped_column()
    # 身份证号: Fernet ciphertext, plus a keyed hash for exact-match lookup; never stored in clear.
    id_number_enc: so.Mapped[str | None] = so.mapped_column(sa.Text)
    id_number_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)
    class_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
    boarding: so.Mapped[bool] = so.mapped_column(default=False)
    status_code: so.Mapped[str] = so.mapped_column(sa.String(2), default="01")  # 01 在读 (JY/T 1001)

    klass: so.Mapped[OrgUnit | None] = so.relationship(foreign_keys=[class_id], lazy="joined")

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        """Whole schools, plus single classes (homeroom/subject teachers; their homeroom and subject-class
        students), plus single students
        (parents, the student themself)."""
        parts = [one_of(cls.school_id, scope.full_school_ids)]
        if scope.class_ids:
            from foundation.models.teaching import StudentClass

            parts.append(one_of(cls.class_id, scope.class_ids))
            # the students of their subject classes (教学班) too
            parts.append(cls.id.in_(sa.select(StudentClass.student_id).where(one_of(StudentClass.class_id,
                                                                                       scope.class_ids))))
        if scope.student_ids:
            parts.append(one_of(cls.id, scope.student_ids))
        # and never outside the schools in reach, whatever the class or child lists say
        return sa.and_(one_of(cls.school_id, scope.school_ids), sa.or_(*parts))


class Staff(SchoolScoped, Timestamps, Base):
    __tablename__ = "staff"
    __table_args__ = (sa.UniqueConstraint("school_id", "staff_no", name="uq_staff_school_no"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    staff_no: so.Mapped[str] = so.mapped_column(sa.String(32))  # 教职工号
    name: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    sex_code: so.Mapped[str] = so.mapped_column(sa.String(1))
    title: so.Mapped[str | None] = so.mapped_column(sa.String(60))  # post, e.g. 语文教师
    subject: so.Mapped[str | None] = so.mapped_column(sa.String(30))
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"))
    active: so.Mapped[bool] = so.mapped_column(default=True)


class Guardian(Timestamps, Base):
    """A parent or other guardian. Not owned by one school (children may be at several); visible
    through the schools of the children they are linked to."""

    __tablename__ = "guardians"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60))
    phone_enc: so.Mapped[str | None] = so.mapped_column(sa.Text)
    phone_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)
    id_number_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        reachable = (
            sa.select(GuardianLink.guardian_id)
            .join(Student, Student.id == GuardianLink.student_id)
            .where(Student.tenant_criteria(scope))
        )
        if scope.guardian_ids:
            return sa.or_(one_of(cls.id, scope.guardian_ids), cls.id.in_(reachable))
        return cls.id.in_(reachable)


class GuardianLink(SchoolScoped, Base):
    """Guardian ↔ student with the family relation (GB/T 4761). ``school_id`` is the student's school."""

    __tablename__ = "guardian_links"
    __table_args__ = (sa.UniqueConstraint("guardian_id", "student_id", name="uq_guardian_links_pair"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    guardian_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("guardians.id", ondelete="CASCADE"), index=True)
    student_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("students.id", ondelete="CASCADE"), index=True)
    relation_code: so.Mapped[str] = so.mapped_column(sa.String(2))
    is_primary: so.Mapped[bool] = so.mapped_column(default=False)

    guardian: so.Mapped[Guardian] = so.relationship(lazy="joined")

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        return cls.student_id.in_(sa.select(Student.id).where(Student.tenant_criteria(scope)))
