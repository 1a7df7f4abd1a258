"""``jizuo accounts …``: account administration for district IT staff."""
from __future__ import annotations

from collections.abc import Callable

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from foundation import db
from foundation.cli.common import district_session
from foundation.services import accounts as svc


def _apply(action: Callable[..., object], *args: str, message: str) -> None:
    """Run one account operation; its error becomes a clear CLI error, success commits once."""
    district_session()
    try:
        action(*args)
    except svc.AccountError as err:
        raise click.ClickException(str(err)) from err
    db.session().commit()
    click.echo(message)


def _role_at(fn: Callable) -> Callable:
    fn = click.option("--org-unit", "org_unit_code", required=True, help="Code of the org unit the role is held at.")(fn)
    return click.option("--role", required=True)(fn)


_password = click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)


@click.group("accounts")
def accounts_cmd() -> None:
    """Account administration."""


@accounts_cmd.command("list")
@click.option("--role", default=None)
@click.option("--limit", default=50, show_default=True)
@with_appcontext
def accounts_list(role: str | None, limit: int) -> None:
    """List accounts and their roles."""
    from foundation.models import Account, Membership

    sess = district_session()
    stmt = sa.select(Account).order_by(Account.id).limit(limit)
    if role:
        stmt = stmt.where(Account.id.in_(sa.select(Membership.account_id).where(Membership.role == role)))
    for acct in sess.scalars(stmt):
        roles = ", ".join(f"{m.role}@{m.org_unit.name}" for m in acct.memberships)
        lock = " [locked]" if acct.locked_until else ""
        click.echo(f"{acct.username:<24} {acct.display_name:<8} {roles}{lock}")


@accounts_cmd.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@_role_at
@_password
@with_appcontext
def accounts_create(username: str, display_name: str, role: str, org_unit_code: str, password: str) -> None:
    """Create an account with one role at an org unit (e.g. the first district admin)."""
    _apply(svc.create_account, username, display_name, role, org_unit_code, password,
           message=f"created {username} ({role} at {org_unit_code})")


@accounts_cmd.command("grant")
@click.argument("username")
@_role_at
@with_appcontext
def accounts_grant(username: str, role: str, org_unit_code: str) -> None:
    """Give an account a role at an org unit (e.g. homeroom teacher of a class)."""
    _apply(svc.grant, username, role, org_unit_code, message=f"{username}: {role} at {org_unit_code}")


@accounts_cmd.command("revoke")
@click.argument("username")
@_role_at
@with_appcontext
def accounts_revoke(username: str, role: str, org_unit_code: str) -> None:
    """Take a role away."""
    _apply(svc.revoke, username, role, org_unit_code, message=f"{username}: no longer {role} at {org_unit_code}")


@accounts_cmd.command("set-password")
@click.argument("username")
@_password
@with_appcontext
def accounts_set_password(username: str, password: str) -> None:
    """Set a new password (and unlock the account)."""
    _apply(svc.set_password, username, password, message=f"password of {username} changed")


@accounts_cmd.command("unlock")
@click.argument("username")
@with_appcontext
def accounts_unlock(username: str) -> None:
    """Lift a lockout after repeated failed logins."""
    _apply(svc.unlock, username, message=f"{username} unlocked")
