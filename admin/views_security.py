"""The second login step (TOTP) and the account security page where a person enrols or removes it."""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import g, redirect, render_template, request, session, url_for

from admin.blueprint import bp
from foundation import db
from foundation.auth import OWN, login_user
from foundation.i18n import t
from foundation.models import Account
from foundation.security import totp

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
        if acct is not None and totp.verify(acct, request.form.get("code", "")):
            nxt = pending["next"]
            login_user(acct)
            db.session().commit()
            return redirect(nxt)
        pending["tries"] = pending.get("tries", 0) + 1
        session["pending_2fa"] = pending
        if pending["tries"] >= MAX_TRIES:
            session.pop("pending_2fa", None)
            return redirect(url_for("admin.login"))
        error = t("totp.bad_code")
    return render_template("admin/login_2fa.html", error=error), (401 if error else 200)


@bp.route("/account/security", methods=["GET", "POST"])
def account_security():
    acct = _account(g.principal.account_id)
    message = error = None
    secret = session.get("totp_enrol")
    if request.method == "POST":
        action = request.form.get("action")
        code = request.form.get("code", "")
        if action == "start":
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
    return render_template("admin/security.html", enrolled=bool(acct.totp_secret_enc), secret=secret, uri=uri,
                           svg=svg, message=message, error=error), (422 if error else 200)
