"""Mixins shared by the models: the school scope every school-owned row carries."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.tenancy import one_of

if TYPE_CHECKING:
    from foundation.tenancy import Scope


class SchoolScoped:
    """A row owned by one school. Queries see it only when the session's scope reaches that school.

    Models may override :meth:`tenant_criteria` to narrow further (students by class, for example).
    """

    school_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        return one_of(cls.school_id, scope.school_ids)


class Timestamps:
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
