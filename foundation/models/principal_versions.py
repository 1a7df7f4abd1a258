"""A version per account, bumped by the database whenever what the account may do changes.

``principal_versions`` holds one counter per account (and row 0 for the whole platform: the plugins enabled
per school). Triggers (migration 0023) bump it on every write that changes a principal — the account's own
row (active, username, name, person), its memberships, a guardian's links to children, the classes under a
unit where a role is held, the plugins enabled in a school — whoever writes: a route, the CLI, a plugin, raw
SQL. The request boundary reads it (one indexed lookup) and reuses the principal it loaded for the same
version (foundation/auth.py); a change is therefore in force on the very next request, in every process.
The row outlives a deleted account on purpose: a reused id continues the count instead of restarting it.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base

EVERYONE = 0  # the row bumped when something changes for all principals (a plugin enabled or disabled)


class PrincipalVersion(Base):
    __tablename__ = "principal_versions"

    account_id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    version: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), default=0)
