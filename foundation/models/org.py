"""The org tree: district → school → grade → class, and departments / teaching groups."""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base
from foundation.models.base import SchoolScoped, Timestamps
from foundation.tenancy import one_of

if TYPE_CHECKING:
    from foundation.tenancy import Scope

KINDS = ("district", "school", "grade", "class", "department")
STAGES = ("kindergarten", "primary", "junior", "senior", "vocational", "nine_year", "complete")


class OrgUnit(SchoolScoped, Timestamps, Base):
    """One node of the org tree. ``school_id`` is the school it belongs to (itself for a school,
    NULL for the district)."""

    __tablename__ = "org_units"
    __table_args__ = (
        sa.UniqueConstraint("code", name="uq_org_units_code"),
        sa.CheckConstraint(f"kind IN {KINDS}", name="kind"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    name_en: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    # 学校标识码 (10 digits) for schools; unique codes for other units are derived from it.
    code: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
    stage: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    # grades and classes: the year the cohort entered (入学年份); classes: their number in the grade
    entry_year: so.Mapped[int | None] = so.mapped_column()
    seq: so.Mapped[int] = so.mapped_column(default=0)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # classes: homeroom (行政班, also when NULL) or scheduled (a subject class, 教学班); the course taught
    class_type: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    course_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("courses.id", use_alter=True))

    parent: so.Mapped[OrgUnit | None] = so.relationship(remote_side=[id], foreign_keys=[parent_id])

    def title(self, lang: str | None = None) -> str:
        """The unit's name in ``lang`` (the request's language by default): 二年级(1)班 / Grade 2 Class 1."""
        from foundation.i18n import current_lang

        return (self.name_en or self.name) if (lang or current_lang()) == "en" else self.name

    @classmethod
    def title_col(cls, lang: str | None = None) -> sa.ColumnElement[str]:
        """The same as :meth:`title`, as a column expression for a query."""
        from foundation.i18n import current_lang

        return sa.func.coalesce(cls.name_en, cls.name) if (lang or current_lang()) == "en" else cls.name

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        # The district node is visible to everyone in the district; a district-level principal also
        # sees the list of schools (not their insides) without entering one.
        crit = sa.or_(one_of(cls.school_id, scope.school_ids), cls.kind == "district")
        if scope.district_level:
            crit = sa.or_(crit, cls.kind == "school")
        return crit
