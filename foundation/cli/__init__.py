"""The ``jizuo`` command. Each group lives in a module of this package; every command runs in an app
context with one session that acts for the district (:func:`foundation.cli.common.district_session`) and
commits once at its end (or not at all when it fails)."""
from __future__ import annotations

import click
from flask.cli import FlaskGroup

from foundation.app import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=True,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Jizuo (基座): a district education digital foundation."""


def _register() -> None:
    from foundation.cli import accounts, alerts, core, data, jobs, oidc, oneroster, plugin, standards, worker
    from foundation.cli.audit import audit_cmd

    for command in (core.init_cmd, core.serve_cmd, core.demo_cmd, accounts.accounts_cmd, oidc.clients_cmd,
                    oidc.keys_cmd, oidc.token_cmd, oidc.upstream_cmd, data.ingest_cmd, data.sources_cmd,
                    standards.standards_cmd, oneroster.oneroster_cmd, worker.worker_cmd, alerts.alerts_cmd,
                    jobs.jobs_cmd, plugin.plugin_cmd, audit_cmd):
        main.add_command(command)
    from foundation.cli.backup import backup_cmd, backup_key_cmd, restore_cmd  # backups (docs/scale.md)

    for command in (backup_cmd, restore_cmd, backup_key_cmd):
        main.add_command(command)
    from foundation.cli.cockpit import cockpit_cmd  # the cockpits' nightly refresh (docs/cockpit.md)

    main.add_command(cockpit_cmd)
    from foundation.cli.partitions import partitions_cmd  # records' monthly partitions (docs/data.md)

    main.add_command(partitions_cmd)


_register()
