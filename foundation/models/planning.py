"""Planning figures of a school, by school and never by student (issue 21): how many students each grade had
each school year (the enrolment history the forecast learns from), the school's facilities and places (the
school base library's facility elements, standards/libraries/base/school.json) and the district's standard
per student for each school stage (the balanced-development map's bar)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow
from foundation.models.base import SchoolScoped

# the facility elements of the school base library, in the order the pages show them: (name, SQL type)
FACILITY_ELEMENTS = (
    ("site_area", "decimal"), ("building_area", "decimal"), ("teaching_area", "decimal"),
    ("sports_area", "decimal"), ("classrooms", "integer"), ("multimedia_rooms", "integer"),
    ("lab_rooms", "integer"), ("music_rooms", "integer"), ("art_rooms", "integer"), ("computer_rooms", "integer"),
    ("library_books", "integer"), ("equipment_value", "decimal"), ("entry_places", "integer"),
    ("total_places", "integer"),
)


class SchoolEnrolment(SchoolScoped, Base):
    """Students in one grade of one school in one school year (``school_year`` 2026 = 2026–27), as the
    school reported them to the annual education statistics (教育事业统计)."""

    __tablename__ = "school_enrolments"
    __table_args__ = (
        sa.UniqueConstraint("school_id", "school_year", "grade", name="uq_school_enrolments_year_grade"),
        sa.CheckConstraint("students >= 0", name="students"),
        sa.CheckConstraint("grade BETWEEN 1 AND 12", name="grade"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_year: so.Mapped[int] = so.mapped_column()
    grade: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    students: so.Mapped[int] = so.mapped_column()
    source: so.Mapped[str] = so.mapped_column(sa.String(40), default="import")
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)


class SchoolFacility(SchoolScoped, Base):
    """A school's facilities and places (one row a school): the facility elements of the school base library.
    Areas in m², equipment in yuan; every element may be unknown (NULL) until the school reports it."""

    __tablename__ = "school_facilities"
    __table_args__ = (sa.UniqueConstraint("school_id", name="uq_school_facilities_school"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    site_area: so.Mapped[float | None] = so.mapped_column(sa.Float)
    building_area: so.Mapped[float | None] = so.mapped_column(sa.Float)
    teaching_area: so.Mapped[float | None] = so.mapped_column(sa.Float)
    sports_area: so.Mapped[float | None] = so.mapped_column(sa.Float)
    classrooms: so.Mapped[int | None] = so.mapped_column()
    multimedia_rooms: so.Mapped[int | None] = so.mapped_column()
    lab_rooms: so.Mapped[int | None] = so.mapped_column()
    music_rooms: so.Mapped[int | None] = so.mapped_column()
    art_rooms: so.Mapped[int | None] = so.mapped_column()
    computer_rooms: so.Mapped[int | None] = so.mapped_column()
    library_books: so.Mapped[int | None] = so.mapped_column()
    equipment_value: so.Mapped[float | None] = so.mapped_column(sa.Float)
    entry_places: so.Mapped[int | None] = so.mapped_column()
    total_places: so.Mapped[int | None] = so.mapped_column()
    source: so.Mapped[str] = so.mapped_column(sa.String(40), default="import")
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)


class FacilityStandard(Base):
    """The district's standard per student for one indicator at one school stage (a district-wide setting,
    no school's row): overrides the national defaults of foundation/cockpit/balance.py."""

    __tablename__ = "facility_standards"
    __table_args__ = (sa.UniqueConstraint("stage", "indicator", name="uq_facility_standards_stage_indicator"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    stage: so.Mapped[str] = so.mapped_column(sa.String(16))
    indicator: so.Mapped[str] = so.mapped_column(sa.String(40))
    value: so.Mapped[float] = so.mapped_column(sa.Float)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
