"""OIDC endpoints: discovery, JWKS, authorize (+ consent), token, userinfo, revoke, introspect, logout."""
from __future__ import annotations

import time
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.core.errors import ConsentRequiredError, InteractionRequiredError, LoginRequiredError
from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session

from foundation import db
from foundation.audit import record
from foundation.auth import logout_user
from foundation.i18n import current_lang, t
from foundation.models import Account, Consent, GuardianLink, OAuthClient, OrgUnit
from foundation.oidc import keys
from foundation.oidc.authn import REAUTH_PARAM, logged_in_again, login_facts, reauth_marker
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
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "name",
                             "preferred_username", "roles", "school_id", "children"],
        "prompt_values_supported": ["none", "login", "consent"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
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


def _to_login():
    """To the login page, and back to this very request afterwards, marked as sent by us now: a login
    that happens after the mark satisfies prompt=login and max_age (however long the person typed)."""
    args = request.args.to_dict(flat=False) | {REAUTH_PARAM: [reauth_marker()]}
    back = request.path + "?" + urlencode(args, doseq=True)
    return redirect(current_app.config.get("LOGIN_URL", "/login") + "?next=" + quote(back))


def _max_age(redirect_uri: str | None) -> int | None:
    raw = request.values.get("max_age")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise InvalidRequestError("max_age must be a number of seconds", redirect_uri=redirect_uri,
                                  state=request.values.get("state"))
    return int(raw)


def _reauthentication_needed(redirect_uri: str | None) -> bool:
    """prompt=login, or a login older than max_age, or a session whose login time is not known — unless
    this request is the one we sent to the login page, and the person has logged in since."""
    auth_time, _ = login_facts()
    if logged_in_again(request.values.get(REAUTH_PARAM), auth_time):
        return False
    max_age = _max_age(redirect_uri)
    prompts = (request.values.get("prompt") or "").split()
    return (auth_time is None or "login" in prompts
            or (max_age is not None and (max_age == 0 or time.time() - auth_time > max_age)))


def _not_signed_in() -> OAuth2Error:
    """prompt=none without a signed-in person: login_required, or interaction_required when the person is
    midway (a second factor or a portal binding code still to enter). Checked request first, so the error
    goes to a registered redirect_uri or is a page."""
    try:
        grant = server.get_consent_grant(end_user=None)
        error: OAuth2Error = LoginRequiredError(redirect_uri=grant.redirect_uri)
    except LoginRequiredError as err:  # Authlib's own answer for an OpenID request
        error = err
    except OAuth2Error as err:
        return err
    if session.get("pending_2fa") or session.get("fed_pending"):
        error = InteractionRequiredError(redirect_uri=error.redirect_uri)
    error.state = request.values.get("state")
    return error


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    p = g.principal
    prompt_none = "none" in (request.values.get("prompt") or "").split()
    if p is None or p.token_caps is not None:
        if prompt_none:
            return _error_page(_not_signed_in())
        return _to_login()
    acct = db.session().scalar(sa.select(Account).where(Account.id == p.account_id), execution_options=DISTRICT)
    auth_time, amr = login_facts()
    user = User(acct, auth_time, amr)
    try:
        grant = server.get_consent_grant(end_user=user)
        if _reauthentication_needed(grant.redirect_uri):
            if prompt_none:
                raise LoginRequiredError(redirect_uri=grant.redirect_uri, state=request.values.get("state"))
            return _to_login()
    except OAuth2Error as error:
        return _error_page(error)
    client = grant.client.row
    scopes = (grant.request.payload.scope or "").split()
    consent = db.session().scalar(sa.select(Consent).where(Consent.account_id == acct.id,
                                                           Consent.client_id == client.client_id))
    already = consent is not None and set(scopes) <= set(consent.scopes)
    ask = not client.first_party and (not already or "consent" in (request.values.get("prompt") or "").split())
    if request.method == "GET" and ask:
        if prompt_none:
            return _error_page(ConsentRequiredError(redirect_uri=grant.redirect_uri,
                                                    state=request.values.get("state")))
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


def _two_client_auth_methods():
    """RFC 6749 §2.3: a client authenticates one way per request. HTTP Basic and a secret (or an
    assertion) in the body, or Basic for one client and a client_id in the body for another, are refused."""
    from authlib.oauth2.rfc6749.util import extract_basic_authorization

    basic_id, _ = extract_basic_authorization(request.headers)
    if not basic_id:
        return None
    form = request.form
    if "client_secret" in form or "client_assertion" in form or form.get("client_id", basic_id) != basic_id:
        return server.handle_error_response(request, InvalidRequestError(
            "use one client authentication method per request (HTTP Basic or client_secret in the body)"))
    return None


@bp.post("/oauth/token")
def token():
    return _two_client_auth_methods() or server.create_token_response()


@bp.post("/oauth/revoke")
def revoke():
    return _two_client_auth_methods() or server.create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
def introspect():
    return _two_client_auth_methods() or server.create_endpoint_response("introspection")


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


def _logout_refused(description: str):
    return render_template("oidc/error.html", error="invalid_request", description=description), 400


@bp.route("/oauth/logout", methods=["GET", "POST"])
def end_session():
    """RP-initiated logout. Redirects only to a post-logout URI registered by the client named in a
    valid ``id_token_hint`` (or ``client_id``), never to anything else. The person is asked first when
    nothing proves which client sent them (no hint), or when the hint names someone else than who is
    signed in here. (A POST is that question's answer: it carries the CSRF token of our form.)"""
    from joserfc import jwt
    from joserfc.errors import JoseError

    args = request.values
    client_id = args.get("client_id")
    hint = args.get("id_token_hint")
    hint_sub = None
    if hint:
        try:
            claims = jwt.decode(hint, keys.verification_keys(), algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return _logout_refused("id_token_hint is not a token of this provider")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if claims.get("iss") != issuer() or not audiences or not isinstance(audiences[0], str):
            return _logout_refused("id_token_hint is not a token of this provider")
        if client_id and client_id not in audiences:
            return _logout_refused("client_id is not the audience of the id_token_hint")
        client_id, hint_sub = client_id or audiences[0], claims.get("sub")
    target = args.get("post_logout_redirect_uri")
    if target:
        client = db.session().scalar(sa.select(OAuthClient).where(OAuthClient.client_id == (client_id or "")))
        if client is None or target not in client.post_logout_redirect_uris:
            return _logout_refused("post_logout_redirect_uri is not registered for this client")
    me = g.principal.account_id if g.principal is not None else None
    other = None
    if hint_sub is not None and me is not None:
        acct = db.session().scalar(sa.select(Account).where(Account.id == me), execution_options=DISTRICT)
        other = acct.display_name if acct is not None and subject_of(acct) != hint_sub else None
    if request.method == "GET" and (not hint or other):
        # without proof of which client sent the person here, or for another person: ask (CSRF-protected form)
        return render_template("oidc/logout.html", t=t, lang=current_lang(), args=args, signed_in_as=other)
    logout_user()  # ended on the server too: a saved copy of the cookie signs no one in
    if target:
        state = args.get("state")
        return redirect(target + (("&" if "?" in target else "?") + urlencode({"state": state}) if state else ""))
    return render_template("oidc/logged_out.html", t=t, lang=current_lang())
