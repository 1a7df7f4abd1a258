"""OIDC endpoints: discovery, JWKS, authorize (+ consent), token, userinfo, revoke, introspect, logout."""
from __future__ import annotations

from urllib.parse import quote, urlencode

import sqlalchemy as sa
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session

from foundation import db
from foundation.audit import record
from foundation.i18n import current_lang, t
from foundation.models import Account, Consent, GuardianLink, OAuthClient, OrgUnit
from foundation.oidc import keys
from foundation.oidc.bearer import verify_access_token
from foundation.oidc.common import issuer
from foundation.oidc.scopes import SCOPES
from foundation.oidc.server import DISTRICT, User, server
from foundation.oidc.subjects import subject_of
from foundation.permissions import ROLES

bp = Blueprint("oidc", __name__, template_folder="templates")


@bp.get("/.well-known/openid-configuration")
def discovery():
    base = issuer()
    return jsonify({
        "issuer": base,
        "authorization_endpoint": base + "/oauth/authorize",
        "token_endpoint": base + "/oauth/token",
        "userinfo_endpoint": base + "/oauth/userinfo",
        "jwks_uri": base + "/oauth/jwks",
        "revocation_endpoint": base + "/oauth/revoke",
        "introspection_endpoint": base + "/oauth/introspect",
        "end_session_endpoint": base + "/oauth/logout",
        "scopes_supported": sorted(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name",
                             "preferred_username", "roles", "school_id", "children"],
        "ui_locales_supported": ["zh-CN", "en"],
    })


@bp.get("/oauth/jwks")
def jwks():
    resp = jsonify(keys.public_jwks())
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


def _error_page(error: OAuth2Error):
    if error.redirect_uri:  # validated already: tell the client the standard way
        return server.handle_error_response(request, error)
    return render_template("oidc/error.html", error=error.error, description=error.description), 400


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    p = g.principal
    if p is None or p.token_caps is not None:
        if request.args.get("prompt") == "none":
            try:
                server.get_consent_grant(end_user=None)
            except OAuth2Error as error:
                return _error_page(error)
        return redirect(current_app.config.get("LOGIN_URL", "/login") + "?next=" + quote(request.full_path))
    acct = db.session().scalar(sa.select(Account).where(Account.id == p.account_id), execution_options=DISTRICT)
    user = User(acct)
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _error_page(error)
    client = grant.client.row
    scopes = (grant.request.payload.scope or "").split()
    consent = db.session().scalar(sa.select(Consent).where(Consent.account_id == acct.id,
                                                           Consent.client_id == client.client_id))
    already = consent is not None and set(scopes) <= set(consent.scopes)
    if request.method == "GET" and not (client.first_party or already):
        lang = current_lang()
        items = [getattr(SCOPES[s], lang) for s in scopes if s in SCOPES]
        return render_template("oidc/consent.html", client=client, scopes=items, lang=lang, t=t,
                               name=client.name if lang == "zh" or not client.name_en else client.name_en)
    if request.method == "POST" and request.form.get("decision") != "allow":
        record("oidc.consent.denied", "client", client.client_id, detail={"scopes": scopes})
        return server.create_authorization_response(grant=grant, grant_user=None)
    if request.method == "POST":
        if consent is None:
            db.session().add(Consent(account_id=acct.id, client_id=client.client_id, scopes=scopes))
        else:
            consent.scopes = sorted(set(consent.scopes) | set(scopes))
        record("oidc.consent.granted", "client", client.client_id, detail={"scopes": scopes})
    return server.create_authorization_response(grant=grant, grant_user=user)


@bp.post("/oauth/token")
def token():
    return server.create_token_response()


@bp.post("/oauth/revoke")
def revoke():
    return server.create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
def introspect():
    return server.create_endpoint_response("introspection")


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
def userinfo():
    header = request.headers.get("Authorization", "")
    row = verify_access_token(header[7:].strip()) if header[:7].lower() == "bearer " else None
    if row is None or row.account_id is None or "openid" not in row.scope.split():
        resp = jsonify({"error": "invalid_token"})
        resp.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return resp, 401
    acct = db.session().scalar(sa.select(Account).where(Account.id == row.account_id), execution_options=DISTRICT)
    scope = set(row.scope.split())
    claims: dict = {"sub": subject_of(acct)}
    if "profile" in scope:
        claims.update(name=acct.display_name, preferred_username=acct.username)
    if "roles" in scope:
        units = {u.id: u for u in db.session().scalars(
            sa.select(OrgUnit).where(OrgUnit.id.in_([m.org_unit_id for m in acct.memberships])),
            execution_options=DISTRICT)}
        claims["roles"] = [{"role": m.role, "title": ROLES[m.role].zh if m.role in ROLES else m.role,
                            "org_unit_id": m.org_unit_id, "org_unit": units[m.org_unit_id].name,
                            "school_id": m.school_id} for m in acct.memberships]
        schools = sorted({m.school_id for m in acct.memberships if m.school_id})
        claims["school_id"] = schools[0] if len(schools) == 1 else None
    if "children" in scope and acct.person_kind == "guardian":
        claims["children"] = sorted(db.session().scalars(
            sa.select(GuardianLink.student_id).where(GuardianLink.guardian_id == acct.person_id),
            execution_options=DISTRICT))
    record("oidc.userinfo", "account", acct.id, detail={"client_id": row.client_id, "scope": sorted(scope)})
    return jsonify(claims)


@bp.route("/oauth/logout", methods=["GET", "POST"])
def end_session():
    """RP-initiated logout. Redirects only to a post-logout URI registered by the client named in a
    valid ``id_token_hint`` (or ``client_id``), never to anything else."""
    from joserfc import jwt
    from joserfc.errors import JoseError

    args = request.values
    client_id = args.get("client_id")
    hint = args.get("id_token_hint")
    if hint:
        try:
            claims = jwt.decode(hint, keys.verification_keys(), algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return render_template("oidc/error.html", error="invalid_request",
                                   description="id_token_hint is not a token of this provider"), 400
        aud = claims.get("aud")
        client_id = aud[0] if isinstance(aud, list) else aud
    target = args.get("post_logout_redirect_uri")
    if target:
        client = db.session().scalar(sa.select(OAuthClient).where(OAuthClient.client_id == (client_id or "")))
        if client is None or target not in client.post_logout_redirect_uris:
            return render_template("oidc/error.html", error="invalid_request",
                                   description="post_logout_redirect_uri is not registered for this client"), 400
    if request.method == "GET" and not hint:
        # without proof of which client sent the person here, ask before logging out (CSRF-protected form)
        return render_template("oidc/logout.html", t=t, lang=current_lang(), args=args)
    session.clear()
    if target:
        state = args.get("state")
        return redirect(target + (("&" if "?" in target else "?") + urlencode({"state": state}) if state else ""))
    return render_template("oidc/logged_out.html", t=t, lang=current_lang())
