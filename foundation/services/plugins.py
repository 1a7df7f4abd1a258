"""Installing a plugin for a school: its migrations, the install row, its own install hook. Shared by the
API (a school admin, from the app square) and ``jizuo demo`` (the first-party plugins in every demo
school)."""
from __future__ import annotations

from typing import Any

import sqlalchemy.orm as so

from foundation.models import PluginInstall
from foundation.tenancy import narrowed


def install(sess: so.Session, host, loaded, school_id: int, config: dict[str, Any], *, database_url: str,
            account_id: int | None) -> PluginInstall:
    migrations = host.call(loaded.name, "jizuo_migrations")
    if migrations:
        from foundation.migrate import upgrade
        from foundation.pluginhost import discover, migration_dirs

        # the app's own plugins (a vendor's registered by hand in its tests too) and every installed one
        dirs = list(dict.fromkeys([*migration_dirs(host), *migration_dirs(discover())]))
        upgrade(database_url, f"{loaded.name}@head", plugin_dirs=dirs)
    row = PluginInstall(plugin=loaded.name, school_id=school_id, version=loaded.manifest["version"], enabled=True,
                        config=config, installed_by=account_id)
    sess.add(row)
    sess.flush()
    with narrowed(sess, school_id):  # the plugin's install hook sees the school it is installed in, only
        host.call(loaded.name, "jizuo_install", school_id=school_id, config=config)
    return row


def first_party(host) -> list:
    """The plugins shipped in this repository's plugins/ package (registered through the same entry points
    as a vendor's)."""
    return [p for name, p in sorted(host.loaded.items()) if type(p.obj).__module__.startswith("plugins.")]
