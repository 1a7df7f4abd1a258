"""Which school has which plugin installed, enabled, and with what configuration."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow
from foundation.models.base import SchoolScoped


class PluginInstall(SchoolScoped, Base):
    __tablename__ = "plugin_installs"
    __table_args__ = (sa.UniqueConstraint("plugin", "school_id", name="uq_plugin_installs_school"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    plugin: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    version: so.Mapped[str] = so.mapped_column(sa.String(40))
    enabled: so.Mapped[bool] = so.mapped_column(default=True)
    config: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    installed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    installed_by: so.Mapped[int | None] = so.mapped_column()
    updated_at: so.Mapped[datetime | None] = so.mapped_column()
