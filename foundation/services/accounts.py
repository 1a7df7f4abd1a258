"""Account administration (``jizuo accounts``); the caller's session acts for the district."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from foundation import db
from foundation.audit import record
from foundation.i18n import t
from foundation.models import Account, Membership, OrgUnit
from foundation.permissions import ROLES
from foundation.security import sessions
from foundation.security.passwords import hash_password, password_problem


class AccountError(ValueError):
    pass


def _account(username: str) -> Account:
    acct = db.session().scalar(sa.select(Account).where(Account.username == username))
    if acct is None:
        raise AccountError(f"no account {username!r}")
    return acct


def _unit_for(role: str, org_unit_code: str) -> OrgUnit:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    unit = db.session().scalar(sa.select(OrgUnit).where(OrgUnit.code == org_unit_code))
    if unit is None:
        raise AccountError(f"no org unit with code {org_unit_code!r}")
    if (ROLES[role].reach == "district") != (unit.kind == "district"):
        raise AccountError(f"role {role} cannot be held at a {unit.kind}")
    if ROLES[role].reach == "class" and unit.kind not in ("class", "grade"):
        raise AccountError(f"role {role} is held at a class or a grade, not a {unit.kind}")
    return unit


def create_account(username: str, display_name: str, role: str, org_unit_code: str, password: str) -> Account:
    sess = db.session()
    unit = _unit_for(role, org_unit_code)
    problem = password_problem(password)
    if problem:
        raise AccountError(t(problem, "en"))
    if sess.scalar(sa.select(Account.id).where(Account.username == username)):
        raise AccountError(f"account {username!r} exists")
    acct = Account(username=username, display_name=display_name,
                   password_hash=hash_password(password, current_app.config["PASSWORD_HASH_FAST"]))
    acct.memberships.append(Membership(role=role, org_unit_id=unit.id, school_id=unit.school_id))
    sess.add(acct)
    sess.flush()
    record("accounts.create", "account", acct.id, school_id=unit.school_id, detail={"role": role})
    return acct


def grant(username: str, role: str, org_unit_code: str) -> None:
    acct, unit = _account(username), _unit_for(role, org_unit_code)
    if any(m.role == role and m.org_unit_id == unit.id for m in acct.memberships):
        raise AccountError(f"{username} already holds {role} at {org_unit_code}")
    acct.memberships.append(Membership(role=role, org_unit_id=unit.id, school_id=unit.school_id))
    record("accounts.grant", "account", acct.id, school_id=unit.school_id, detail={"role": role, "org_unit": unit.id})


def revoke(username: str, role: str, org_unit_code: str) -> None:
    acct, unit = _account(username), _unit_for(role, org_unit_code)
    held = [m for m in acct.memberships if m.role == role and m.org_unit_id == unit.id]
    if not held:
        raise AccountError(f"{username} does not hold {role} at {org_unit_code}")
    acct.memberships.remove(held[0])
    record("accounts.revoke", "account", acct.id, school_id=unit.school_id, detail={"role": role, "org_unit": unit.id})


def set_password(username: str, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise AccountError(t(problem, "en"))
    acct = _account(username)
    acct.password_hash = hash_password(password, current_app.config["PASSWORD_HASH_FAST"])
    acct.failed_logins, acct.locked_until = 0, None
    ended = sessions.end_all(acct.id)  # whoever held the old password is signed out everywhere
    record("accounts.set_password", "account", acct.id, detail={"sessions_ended": ended})


def unlock(username: str) -> None:
    acct = _account(username)
    acct.failed_logins, acct.locked_until = 0, None
    record("accounts.unlock", "account", acct.id)
