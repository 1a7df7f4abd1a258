"""Alembic environment: the core's metadata; SQLite uses batch mode so ALTERs work there too."""
from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import foundation.models  # noqa: F401  (registers the tables)
from foundation.db import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
