"""Linking an upstream identity to a person, safely.

Automatic only through a verified identity claim the district maps (the portal's real-name ID number,
verified flag true) matching exactly one guardian's keyed hash; otherwise through a one-time binding
code the school gives the parent. Never by name, never by e-mail.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from foundation import db
from foundation.audit import record
from foundation.models import (
    Account,
    BindingCode,
    FederatedIdentity,
    Guardian,
    GuardianLink,
    Membership,
    OrgUnit,
    UpstreamProvider,
)
from foundation.oidc.server import sha256
from foundation.security.fields import cipher_for
from foundation.tenancy import unscoped

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by parents
CODE_DAYS = 14


# the visitor is anonymous until linked: a verified claim or a school's code finds them anywhere in the district
LINKING = unscoped("federated sign-in matches a visitor to a person in any school by a verified claim or code")


def _one(stmt):
    return db.session().scalar(stmt, execution_options=LINKING)


def identity_for(issuer: str, sub: str) -> FederatedIdentity | None:
    return _one(sa.select(FederatedIdentity).where(FederatedIdentity.issuer == issuer, FederatedIdentity.subject == sub))


def verified_guardian(provider: UpstreamProvider, claims: dict) -> Guardian | None:
    """The one guardian whose ID number the portal vouches for, or None (no claim, unverified, no or
    several matches)."""
    if not provider.id_claim or not provider.id_verified_claim:
        return None
    value, verified = claims.get(provider.id_claim), claims.get(provider.id_verified_claim)
    if not isinstance(value, str) or verified is not True:
        return None
    digest = cipher_for(current_app.config["SECRET_KEY"]).blind_index(value)
    rows = db.session().scalars(sa.select(Guardian).where(Guardian.id_number_hash == digest).limit(2),
                                execution_options=LINKING).all()
    return rows[0] if len(rows) == 1 else None


def account_for_guardian(guardian: Guardian) -> Account:
    """The guardian's account (created on first link) with the parent role at each child's school."""
    sess = db.session()
    acct = _one(sa.select(Account).where(Account.person_kind == "guardian", Account.person_id == guardian.id))
    if acct is None:
        acct = Account(username=f"parent.{guardian.id}", display_name=guardian.name, password_hash=None,
                       person_kind="guardian", person_id=guardian.id)
        sess.add(acct)
        sess.flush()
    schools = set(sess.scalars(sa.select(GuardianLink.school_id).where(GuardianLink.guardian_id == guardian.id),
                               execution_options=LINKING))
    held = {(m.role, m.school_id) for m in acct.memberships}
    for school_id in schools - {s for r, s in held if r == "parent"}:
        unit = _one(sa.select(OrgUnit).where(OrgUnit.id == school_id))
        acct.memberships.append(Membership(role="parent", org_unit_id=unit.id, school_id=school_id))
    sess.flush()
    return acct


def link(provider: UpstreamProvider, sub: str, account: Account, how: str) -> FederatedIdentity:
    ident = FederatedIdentity(provider_id=provider.id, issuer=provider.issuer, subject=sub, account_id=account.id,
                              linked_by=how, last_login_at=db.utcnow())
    db.session().add(ident)
    db.session().flush()
    record("federation.link", "account", account.id, detail={"issuer": provider.issuer, "how": how})
    return ident


def new_binding_code(guardian_id: int, student_id: int, school_id: int, created_by: int | None) -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    db.session().add(BindingCode(code_hash=sha256(raw), guardian_id=guardian_id, student_id=student_id,
                                 school_id=school_id, created_by=created_by,
                                 expires_at=db.utcnow() + timedelta(days=CODE_DAYS)))
    db.session().flush()
    record("federation.binding_code.create", "guardian", guardian_id, school_id=school_id)
    return f"{raw[:5]}-{raw[5:]}"


def redeem(code: str) -> Guardian | None:
    """The guardian of an unused, unexpired code (and the code is spent), else None."""
    norm = "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)
    row = _one(sa.select(BindingCode).where(BindingCode.code_hash == sha256(norm)))
    if row is None or row.used_at is not None or row.expires_at < db.utcnow():
        return None
    with LINKING.on(db.session()):  # an anonymous visitor spends a school's code
        row.used_at = db.utcnow()
        db.session().flush()
    record("federation.binding_code.redeem", "guardian", row.guardian_id, school_id=row.school_id)
    return _one(sa.select(Guardian).where(Guardian.id == row.guardian_id))
