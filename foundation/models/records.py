"""Business-library records, their sources, authorities, conflicts, the change feed and external ids."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow
from foundation.models.base import SchoolScoped


class DataSource(Base):
    """A registered source system (学籍系统, 一卡通, a vendor's app, an IoT gateway, OneRoster files)."""

    __tablename__ = "data_sources"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)  # the OIDC client writing as it
    libraries: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)  # empty = any
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Record(SchoolScoped, Base):
    """One validated business record: the standard envelope + the elements, and the standard version.

    This is the SQLite table. On PostgreSQL (migration 0022) the table is partitioned by month of
    ``occurred_at``: the origin key there is (library, source, source_id, occurred_at), ``id`` has an index
    rather than a primary key, and there is no school foreign key (foundation/ingest/partitions.py)."""

    __tablename__ = "records"
    __table_args__ = (
        sa.UniqueConstraint("library", "source", "source_id", name="uq_records_origin"),
        sa.Index("ix_records_lib_school_time", "library", "school_id", "occurred_at"),
        sa.Index("ix_records_subject", "subject_id", "library"),
    )

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    # every query of records names the library, so (library, school_id, occurred_at) serves the tenancy
    # filter; a separate school_id index would only slow the bulk path down
    school_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=False)
    library: so.Mapped[str] = so.mapped_column(sa.String(40))
    library_version: so.Mapped[str] = so.mapped_column(sa.String(16))
    source: so.Mapped[str] = so.mapped_column(sa.String(40))
    source_id: so.Mapped[str] = so.mapped_column(sa.String(128))
    subject_kind: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    subject_id: so.Mapped[int | None] = so.mapped_column()
    occurred_at: so.Mapped[datetime | None] = so.mapped_column()
    data: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime | None] = so.mapped_column()
    deleted_at: so.Mapped[datetime | None] = so.mapped_column()


class Authority(Base):
    """The authoritative source of one element (一数一源), set by a district admin."""

    __tablename__ = "authorities"
    __table_args__ = (sa.UniqueConstraint("library", "element", name="uq_authorities_element"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    library: so.Mapped[str] = so.mapped_column(sa.String(40))
    element: so.Mapped[str] = so.mapped_column(sa.String(64))
    source: so.Mapped[str] = so.mapped_column(sa.String(40))
    set_by: so.Mapped[int | None] = so.mapped_column()
    set_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Conflict(SchoolScoped, Base):
    """A non-authoritative source disagreed with a stored value. Nothing is merged until an admin decides."""

    __tablename__ = "conflicts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    library: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    entity: so.Mapped[str] = so.mapped_column(sa.String(16))  # record | student | staff | org_unit
    entity_id: so.Mapped[int] = so.mapped_column()
    element: so.Mapped[str] = so.mapped_column(sa.String(64))
    current_value: so.Mapped[Any] = so.mapped_column(sa.JSON, nullable=True)
    proposed_value: so.Mapped[Any] = so.mapped_column(sa.JSON, nullable=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(40))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending", index=True)  # pending|accepted|rejected
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    decided_by: so.Mapped[int | None] = so.mapped_column()
    decided_at: so.Mapped[datetime | None] = so.mapped_column()
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(200))


class Change(SchoolScoped, Base):
    """The change feed: one row per creation, update or deletion (a tombstone), in commit order."""

    __tablename__ = "changes"
    __table_args__ = (sa.Index("ix_changes_library_seq", "library", "seq"),)

    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    school_id: so.Mapped[int | None] = so.mapped_column(index=False)  # read by (library, seq); no FK: a feed row
    library: so.Mapped[str] = so.mapped_column(sa.String(40))
    entity_id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    op: so.Mapped[str] = so.mapped_column(sa.String(8))  # create | update | delete
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class ExternalId(Base):
    """An id in another system (OneRoster sourcedId, a vendor's key) mapped to a local row."""

    __tablename__ = "external_ids"
    __table_args__ = (sa.UniqueConstraint("system", "entity", "external_id", name="uq_external_ids_key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    system: so.Mapped[str] = so.mapped_column(sa.String(40))
    entity: so.Mapped[str] = so.mapped_column(sa.String(16))  # school | class | student | staff | guardian | term
    external_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    local_id: so.Mapped[int] = so.mapped_column(index=True)
    school_id: so.Mapped[int | None] = so.mapped_column(index=True)
