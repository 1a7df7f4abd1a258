"""The app square (应用广场): one district-wide catalogue of code plugins and low-code apps, with a
lifecycle (准入、审核、评估、复用、淘汰) where every step records who did it and why."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow

STATUSES = ("submitted", "in_review", "published", "deprecated", "retired")


class AppListing(Base):
    __tablename__ = "square_listings"
    __table_args__ = (sa.UniqueConstraint("kind", "key", name="uq_square_listings_key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))  # plugin | lowcode
    key: so.Mapped[str] = so.mapped_column(sa.String(80))  # the plugin's name, the low-code app's id
    title: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    description: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    version: so.Mapped[str] = so.mapped_column(sa.String(40))
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="submitted", index=True)
    level: so.Mapped[str] = so.mapped_column(sa.String(10), default="district")  # school | district
    owner_school_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"))
    submitted_by: so.Mapped[int | None] = so.mapped_column()
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime | None] = so.mapped_column()


class AppListingStep(Base):
    __tablename__ = "square_steps"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    listing_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("square_listings.id", ondelete="CASCADE"), index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(20))  # submit | review | publish | return | deprecate | retire | promote | restore
    from_status: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    to_status: so.Mapped[str] = so.mapped_column(sa.String(12))
    by_account: so.Mapped[int | None] = so.mapped_column()
    by_name: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
