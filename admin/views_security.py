"""The second login step (TOTP) and the account security page: a person changes their own password and
enrols or removes the second factor."""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, session, url_for

from admin.blueprint import bp
from foundation import db
from foundation.auth import OWN, count_failure, is_locked, login_user
from foundation.i18n import t
from foundation.models import Account, FederatedIdentity, UpstreamProvider
from foundation.oidc.authn import remember_login
from foundation.security import own_password, totp
from foundation.security.redirects import local_path

MAX_TRIES = 5


def _account(account_id: int) -> Account | None:
    return db.session().scalar(sa.select(Account).where(Account.id == account_id, Account.active.is_(True)),
                               execution_options=OWN)


@bp.route("/login/2fa", methods=["GET", "POST"])
def login_2fa():
    pending = session.get("pending_2fa")
    if not pending or pending["at"] + 300 < time.time():
        session.pop("pending_2fa", None)
        return redirect(url_for("admin.login"))
    error = None
    if request.method == "POST":
        acct = _account(pending["account_id"])
        if acct is None or is_locked(acct):
            session.pop("pending_2fa", None)
            return redirect(url_for("admin.login"))
        if totp.verify(acct, request.form.get("code", "")):
            acct.failed_logins = 0
            nxt = local_path(pending.get("next")) or url_for("admin.home")
            login_user(acct)
            remember_login("pwd+otp")
            db.session().commit()
            return redirect(nxt)
        count_failure(acct)  # on the server, towards the account's lockout: an older cookie resets nothing
        pending["tries"] = pending.get("tries", 0) + 1
        session["pending_2fa"] = pending
        if pending["tries"] >= MAX_TRIES:
            session.pop("pending_2fa", None)
            return redirect(url_for("admin.login"))
        error = t("totp.bad_code")
    return render_template("admin/login_2fa.html", error=error), (401 if error else 200)


def _federated_by(account_id: int) -> list[str]:
    """The portals a password-less account signs in through (for the explanation shown instead of the form)."""
    return list(db.session().scalars(
        sa.select(UpstreamProvider.name).join(FederatedIdentity, FederatedIdentity.provider_id == UpstreamProvider.id)
        .where(FederatedIdentity.account_id == account_id).order_by(UpstreamProvider.name)))


@bp.route("/account/security", methods=["GET", "POST"])
def account_security():
    acct = _account(g.principal.account_id)
    message = error = None
    pw_errors: dict[str, str] = {}
    secret = session.get("totp_enrol")
    if request.method == "POST":
        action = request.form.get("action")
        code = request.form.get("code", "")
        if action == "password" and acct.password_hash:
            pw_errors = own_password.change(acct, *(request.form.get(f, "")[:1000] for f in own_password.FIELDS))
            if not pw_errors:
                db.session().commit()
                flash("account.password.changed", "ok")
                return redirect(url_for("admin.account_security"))
        elif action == "start":
            secret = session["totp_enrol"] = totp.new_secret()
        elif action == "confirm" and secret:
            if totp.enable(acct, secret, code):
                session.pop("totp_enrol", None)
                secret, message = None, t("totp.enabled")
            else:
                error = t("totp.bad_code")
        elif action == "disable":
            if totp.disable(acct, code):
                message = t("totp.disabled")
            else:
                error = t("totp.bad_code")
    uri = svg = None
    if secret and not acct.totp_secret_enc:
        uri, svg = totp.provisioning(acct, secret)
    federated = [] if acct.password_hash else (_federated_by(acct.id) or [t("account.password.portal")])
    return render_template("admin/security.html", enrolled=bool(acct.totp_secret_enc), secret=secret, uri=uri,
                           svg=svg, message=message, error=error, pw_errors=pw_errors, federated=federated,
                           fields=own_password.FIELDS), (422 if error or pw_errors else 200)
