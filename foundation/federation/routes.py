"""Pages of federated login: start, callback, "bind your child", and the person's own links."""
from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from foundation import db
from foundation.audit import record
from foundation.auth import login_user
from foundation.federation import linking, upstream
from foundation.i18n import current_lang, t
from foundation.models import Account, Consent, FederatedIdentity, OAuthClient, UpstreamProvider
from foundation.models.federation import BindFailure
from foundation.oidc.authn import remember_login
from foundation.security.redirects import local_path
from foundation.tenancy import unscoped

SIGN_IN = unscoped("signing in: the account and its roles in every school")

bp = Blueprint("federation", __name__, template_folder="templates")
MAX_CODE_TRIES = 5  # wrong binding codes per upstream identity …
BIND_SECONDS = 900  # … in this long, which is also how long a binding attempt lasts


def enabled_providers() -> list[UpstreamProvider]:
    return list(db.session().scalars(sa.select(UpstreamProvider).where(UpstreamProvider.enabled.is_(True))
                                     .order_by(UpstreamProvider.id)))


def _provider(slug: str) -> UpstreamProvider:
    row = db.session().scalar(sa.select(UpstreamProvider).where(UpstreamProvider.slug == slug,
                                                                UpstreamProvider.enabled.is_(True)))
    if row is None:
        abort(404)
    return row


def _callback_url(slug: str) -> str:
    return url_for("federation.callback", slug=slug, _external=True)


def _page(template: str, status: int = 200, **kw):
    return render_template(template, t=t, lang=current_lang(), **kw), status


@bp.get("/login/federated/<slug>")
def start(slug: str):
    provider = _provider(slug)
    try:
        url, flow = upstream.start(provider, _callback_url(slug))
    except upstream.UpstreamError as err:
        return _page("federation/problem.html", 502, reason=str(err), name=provider.name)
    session["fed_flow"] = {**flow, "next": local_path(request.args.get("next"))}  # back there once signed in
    return redirect(url)


@bp.get("/login/federated/<slug>/callback")
def callback(slug: str):
    provider = _provider(slug)
    flow = session.pop("fed_flow", None)
    if request.args.get("error"):
        return _page("federation/problem.html", 400, reason=request.args["error"], name=provider.name)
    if not flow or flow.get("provider") != provider.id:
        return _page("federation/problem.html", 400, reason="no login in progress in this browser", name=provider.name)
    try:
        claims = upstream.finish(provider, _callback_url(slug), flow, request.url, request.args.get("state"))
    except upstream.UpstreamError as err:
        record("federation.login_failed", "provider", provider.slug, detail={"reason": str(err)})
        return _page("federation/problem.html", 400, reason=str(err), name=provider.name)
    ident = linking.identity_for(provider.issuer, claims["sub"])
    if ident is None:
        guardian = linking.verified_guardian(provider, claims)
        if guardian is not None:
            ident = linking.link(provider, claims["sub"], linking.account_for_guardian(guardian), "verified_id")
    if ident is None:
        session["fed_pending"] = {"provider": provider.id, "sub": claims["sub"], "name": claims.get("name"),
                                  "at": int(time.time()), "next": flow.get("next")}
        return redirect(url_for("federation.bind"))
    return _sign_in(ident, flow.get("next"))


def _sign_in(ident: FederatedIdentity, nxt: str | None = None):
    acct = db.session().scalar(sa.select(Account).where(Account.id == ident.account_id, Account.active.is_(True)),
                               execution_options=SIGN_IN)
    if acct is None:
        abort(403)
    ident.last_login_at = acct.last_login_at = db.utcnow()
    login_user(acct)
    remember_login("fed")
    record("federation.login", "account", acct.id, detail={"issuer": ident.issuer}, account=acct)
    return redirect(local_path(nxt) or "/")


@bp.route("/bind", methods=["GET", "POST"])
def bind():
    pending = session.get("fed_pending")
    if not pending or pending["at"] + BIND_SECONDS < time.time():
        session.pop("fed_pending", None)
        return redirect(url_for("admin.login") if "admin.login" in _endpoints() else "/login")
    error = None
    if request.method == "POST":
        provider = db.session().scalar(sa.select(UpstreamProvider).where(UpstreamProvider.id == pending["provider"]))
        if provider is None:
            abort(404)
        who = _identity_key(provider, pending["sub"])
        guardian, blocked = None, _bind_failures(who) >= MAX_CODE_TRIES
        if not blocked:
            guardian = linking.redeem(request.form.get("code", ""))
            if guardian is None:
                blocked, error = _bind_failed(who) >= MAX_CODE_TRIES, t("bind.bad_code")
        if blocked:
            session.pop("fed_pending", None)
            record("federation.bind_blocked", "provider", pending["provider"])
            db.session().commit()  # the audit row stays although the answer is an error
            return _page("federation/problem.html", 429, reason=t("bind.too_many"), name="")
        if guardian is not None:
            session.pop("fed_pending", None)
            ident = linking.link(provider, pending["sub"], linking.account_for_guardian(guardian), "binding_code")
            return _sign_in(ident, pending.get("next"))
    return _page("federation/bind.html", 400 if error else 200, name=pending.get("name"), error=error)


def _identity_key(provider: UpstreamProvider, sub: str) -> str:
    return hashlib.sha256(f"{provider.issuer}\n{sub}".encode()).hexdigest()


def _bind_failures(who: str) -> int:
    """Wrong codes typed for this upstream identity in the last ``BIND_SECONDS``: counted on the server, so
    neither an older copy of the cookie nor a new sign-in at the portal starts the count again."""
    since = db.utcnow() - timedelta(seconds=BIND_SECONDS)
    return db.session().scalar(sa.select(sa.func.count()).select_from(BindFailure)
                               .where(BindFailure.identity == who, BindFailure.at > since))


def _bind_failed(who: str) -> int:
    db.session().add(BindFailure(identity=who, at=db.utcnow()))
    db.session().commit()  # kept although the answer is an error (the request rolls back)
    return _bind_failures(who)


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)


@bp.route("/account/links", methods=["GET", "POST"])
def my_links():
    p = g.get("principal")
    if p is None or p.account_id is None:
        return redirect("/login?next=/account/links")
    sess = db.session()
    if request.method == "POST" and request.form.get("consent_id"):
        _withdraw_consent(p.account_id, request.form.get("consent_id", type=int))
    elif request.method == "POST":
        ident = sess.scalar(sa.select(FederatedIdentity).where(
            FederatedIdentity.id == request.form.get("identity_id", type=int),
            FederatedIdentity.account_id == p.account_id))
        if ident is None:
            abort(404)
        sess.delete(ident)
        record("federation.unlink", "account", p.account_id, detail={"issuer": ident.issuer, "by": "self"})
    rows = sess.scalars(sa.select(FederatedIdentity).where(FederatedIdentity.account_id == p.account_id)).all()
    names = {pr.id: pr.name for pr in enabled_providers()}
    consents = sess.execute(sa.select(Consent, OAuthClient.name).join(
        OAuthClient, OAuthClient.client_id == Consent.client_id).where(Consent.account_id == p.account_id)).all()
    return _page("federation/links.html", links=[(r, names.get(r.provider_id, r.issuer)) for r in rows],
                 consents=consents)


def _withdraw_consent(account_id: int, consent_id: int | None) -> None:
    """Withdraw an app's authorisation: the consent goes, and every token it holds for this person dies."""
    from foundation.models import OAuthToken

    sess = db.session()
    consent = sess.scalar(sa.select(Consent).where(Consent.id == consent_id, Consent.account_id == account_id))
    if consent is None:
        abort(404)
    sess.execute(sa.update(OAuthToken).where(OAuthToken.account_id == account_id,
                                             OAuthToken.client_id == consent.client_id)
                 .values(access_revoked=True, refresh_revoked=True))
    sess.delete(consent)
    record("oidc.consent.withdrawn", "client", consent.client_id)
