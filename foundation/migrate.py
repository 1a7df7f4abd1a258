"""Alembic, driven from code: ``jizuo init`` and the tests call :func:`upgrade` (no alembic.ini needed)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent / "migrations"


def alembic_config(url: str, plugin_dirs: list[str] | None = None) -> Config:
    """Core migrations plus each plugin's own version folder (a branch labelled with its name)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if plugin_dirs is None:
        from foundation.pluginhost import discover, migration_dirs

        plugin_dirs = migration_dirs(discover())
    locations = [str(HERE / "versions"), *plugin_dirs]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


def upgrade(url: str, revision: str = "heads", plugin_dirs: list[str] | None = None) -> None:
    command.upgrade(alembic_config(url, plugin_dirs), revision)


def current(url: str) -> set[str]:
    """The revisions the database is at (the core's and each installed plugin's branch)."""
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def head() -> str | None:
    """The core's head revision (plugins' branches have heads of their own)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://", plugin_dirs=[]))
    return script.get_current_head()


def up_to_date(url: str) -> bool:
    """Is the core head applied? (With plugin branches on top, the core head is an ancestor of theirs.)"""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(url))
    applied = current(url)
    if not applied:
        return False
    return head() in {r.revision for r in script.iterate_revisions(tuple(applied), "base")}
