"""A person changes their own password: the current one checked exactly as a login checks it (lockout after
repeated failures, per-address throttle), the new one held to the one policy (:func:`password_problem`),
their other sessions and apps' tokens signed out, the change audited."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from foundation import db
from foundation.audit import record
from foundation.models import Account
from foundation.models.oauth import OAuthToken
from foundation.security import sessions
from foundation.security.passwords import hash_password, password_problem

FIELDS = ("current_password", "new_password", "new_password_confirm")


def change(account: Account, current: str, new: str, confirm: str) -> dict[str, str]:
    """Change ``account``'s password; returns ``{field: message key}`` (nothing changed) or ``{}`` (changed)."""
    from foundation.auth import authenticate

    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = "account.password.required"
    if not new:
        errors["new_password"] = "account.password.required"
    elif problem := password_problem(new):
        errors["new_password"] = problem
    if not confirm:
        errors["new_password_confirm"] = "account.password.required"
    elif new and confirm != new:
        errors["new_password_confirm"] = "account.password.mismatch"
    if errors:
        return errors
    # the login's own check: a wrong current password counts towards the account's lockout and the
    # address's throttle (authenticate commits those counts even though this request then fails)
    last_login = account.last_login_at
    result = authenticate(account.username, current)
    if result.account is None or result.account.id != account.id:
        return {"current_password": "account.password.wrong_current" if result.error == "login.bad_credentials"
                else result.error or "account.password.wrong_current"}
    account.last_login_at = last_login  # checking a password is not a login
    if new == current:
        return {"new_password": "account.password.same"}
    account.password_hash = hash_password(new, current_app.config["PASSWORD_HASH_FAST"])
    revoked = db.session().execute(
        sa.update(OAuthToken).where(OAuthToken.account_id == account.id,
                                    sa.or_(OAuthToken.access_revoked.is_(False), OAuthToken.refresh_revoked.is_(False)))
        .values(access_revoked=True, refresh_revoked=True)).rowcount
    ended = sessions.end_others(account)
    record("account.password.change", "account", account.id, account=account,
           detail={"tokens_revoked": revoked, "sessions_ended": ended})
    return {}
