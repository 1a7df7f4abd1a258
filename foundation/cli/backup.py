"""``jizuo backup``, ``jizuo restore`` and ``jizuo backup-key`` (foundation/backup.py, docs/scale.md#backups)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from foundation.cli.progress import Progress

KEY_WARNING = ("WARNING: the key in this environment (JIZUO_SECRET_KEY, JIZUO_DATA_KEYS_OLD) does not decrypt the "
               "restored {what}: people's ID numbers, phones and sign-in secrets stay unreadable and the app will "
               "fail on them. Set JIZUO_SECRET_KEY (and JIZUO_DATA_KEYS_OLD) from the key file kept with "
               "`jizuo backup-key` (fingerprint {fp}; this environment's key is {here}) and restart.")


def _old_keys() -> list[str]:
    return [k for k in os.environ.get("JIZUO_DATA_KEYS_OLD", "").split(",") if k]


def _report(report, what: str) -> None:
    for line in report.differ:
        click.echo(f"  differs: {line}", err=True)
    if report.extra:
        click.echo(f"  tables not in the backup (left as they were): {', '.join(report.extra)}", err=True)
    if report.differ:
        click.echo(f"{what} FAILED: {len(report.differ)} table(s) differ from the manifest", err=True)
        sys.exit(1)
    click.echo(f"{what} OK: {report.tables} tables, {report.rows} rows match the manifest's counts and checksums")


@click.command("backup")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--verify", is_flag=True, help="Then restore it into a scratch database and compare every table.")
@click.option("--key-out", type=click.Path(path_type=Path),
              help="Also write the key material to this file (0600); keep it apart from the dumps.")
@click.option("--keep-days", type=click.IntRange(1, None),
              help="Then delete this directory's backups older than this many days.")
@click.option("--quiet", is_flag=True, help="No progress line.")
@with_appcontext
def backup_cmd(path: Path | None, verify: bool, key_out: Path | None, keep_days: int | None, quiet: bool) -> None:
    """Back up the database to PATH (a file, or a directory for a dated name; default instance/backups/):
    pg_dump -Fc on PostgreSQL, the online backup API on SQLite, with a manifest of every table's row count
    and checksum beside it. The encryption key is never in it: see --key-out and `jizuo backup-key`."""
    from foundation import backup as bk

    url, secret = current_app.config["DATABASE_URL"], current_app.config["SECRET_KEY"]
    try:
        kind = bk.dialect(url)
        path = path or Path(current_app.config["INSTANCE_PATH"]) / "backups"
        if path.is_dir() or not path.suffix:
            path = path / bk.default_name(kind)
        if key_out is not None and key_out.resolve().parent == path.resolve().parent:
            raise click.BadParameter("the key must not lie beside the dumps: choose another directory",
                                     param_hint="--key-out")
        if key_out is not None:
            bk.write_key_file(key_out, secret, _old_keys())
            click.echo(f"key material written to {key_out} (mode 0600)")
        progress = Progress(enabled=not quiet)
        manifest = bk.backup(url, path, secret, progress)
        progress.close()
        total = sum(t["rows"] for t in manifest["tables"].values())
        click.echo(f"backup written: {path} ({manifest['dump']['bytes']:,} bytes, {len(manifest['tables'])} tables, "
                   f"{total:,} rows), manifest {bk.manifest_path(path)}")
        click.echo(f"key fingerprint {manifest['key_fingerprint']}: the key is NOT in the backup "
                   "(jizuo backup-key FILE keeps it apart)")
        if verify:
            report = bk.verify(url, path, progress)
            progress.close()
            _report(report, "verify")
        if keep_days:
            for gone in bk.prune(path.parent, keep_days):
                click.echo(f"pruned {gone} (older than {keep_days} days)")
    except bk.BackupError as err:
        raise click.ClickException(str(err)) from err


@click.command("restore")
@click.argument("dump", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that is not empty (its tables are replaced).")
@click.option("--quiet", is_flag=True, help="No progress line.")
@with_appcontext
def restore_cmd(dump: Path, force: bool, quiet: bool) -> None:
    """Restore DUMP (made by `jizuo backup`) into JIZUO_DATABASE_URL, then check every table's rows and
    checksum against its manifest and whether the key in the environment decrypts the ID numbers.
    Stop the app first. Exit 1 when a table differs, 3 when the key does not decrypt."""
    from foundation import backup as bk

    url, secret = current_app.config["DATABASE_URL"], current_app.config["SECRET_KEY"]
    progress = Progress(enabled=not quiet)
    try:
        manifest = bk.read_manifest(dump)
        report = bk.restore(url, dump, force=force, secret=secret, progress=progress)
    except bk.BackupError as err:
        progress.close()
        raise click.ClickException(str(err)) from err
    progress.close()
    click.echo(f"restored {dump} (made {manifest['created_at']}, revisions "
               f"{', '.join(manifest['alembic_revisions']) or 'none'})")
    key = report.key
    if key is not None and key.ok is False:
        click.echo(KEY_WARNING.format(what=key.what, fp=manifest.get("key_fingerprint", "?"),
                                     here=bk.key_fingerprint(secret)), err=True)
    _report(report, "restore check")
    if key is not None and key.ok is False:
        sys.exit(3)
    if key is not None and key.ok:
        click.echo(f"key OK: it decrypts the {key.tried} {key.what} sampled")


@click.command("backup-key")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def backup_key_cmd(path: Path) -> None:
    """Write the key material (JIZUO_SECRET_KEY and JIZUO_DATA_KEYS_OLD) to PATH, mode 0600, never
    overwriting. Keep it apart from the database backups: a dump without its key is unreadable ciphertext
    for the ID numbers, and a key without the dump is nothing."""
    from foundation import backup as bk

    try:
        bk.write_key_file(path, current_app.config["SECRET_KEY"], _old_keys())
    except bk.BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"key material written to {path} (mode 0600), fingerprint "
               f"{bk.key_fingerprint(current_app.config['SECRET_KEY'])}")
