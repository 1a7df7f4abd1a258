"""Who is acting: password login with lockout, and the principal of each request.

The browser keeps ``account_id`` and a session id in the signed session cookie; the session is checked
against its row on the server (foundation/security/sessions.py). Each request resolves it into a
:class:`~foundation.permissions.Principal` and sets the database session's scope from it, so every
query of the request is school-scoped without the view doing anything.

The principal is loaded from the database once per version: the account's row in ``principal_versions``
(with the row for everyone, for plugins enabled or disabled) is bumped by triggers on every write that
changes what the account may do (migration 0023). Each request reads the versions in the same query that
checks its session (or, with a bearer token, in one indexed lookup) and reuses this process's principal for
that (account, entered school, versions), a copy per request. So a removed role, a disabled account or a
new guardian link is in force on the very next request, in every process.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401 - sa.orm.aliased
from flask import Flask, current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

from foundation import db
from foundation.audit import record
from foundation.errors import APIError
from foundation.models import Account, GuardianLink, LoginFailure, OrgUnit
from foundation.models.accounts import WebSession
from foundation.models.principal_versions import EVERYONE, PrincipalVersion
from foundation.permissions import ROLES, Grant, Principal
from foundation.security import sessions
from foundation.security.passwords import STRONG, hash_password, verify_password
from foundation.tenancy import EMPTY, set_scope, unscoped

OWN = unscoped("a principal's own grants and family, which their scope is built from")
ENTER = unscoped("a district admin enters one school: checked (district.cross_school) and audited")


@dataclass
class LoginResult:
    account: Account | None
    error: str | None = None  # message key


def authenticate(username: str, password: str) -> LoginResult:
    """Check a password. After ``LOGIN_MAX_FAILURES`` failures the account is locked for
    ``LOGIN_LOCK_MINUTES``; a locked account is refused even with the right password.

    Nothing tells whether a username exists: an unknown one costs the same hashing, and locks (its failures
    counted by username in ``login_failures``) after as many failures, for as long, with the same words, as
    a real account. Only the right password learns that an account is disabled."""
    sess = db.session()
    ip = (request.remote_addr or "?") if has_request_context() else "cli"
    if _address_throttled(ip):
        return LoginResult(None, "login.throttled")
    username = username.strip()
    if not username or len(username) > 64 or "\x00" in username:
        username = ""  # cannot exist; still pay the hashing cost below
    acct = sess.scalar(sa.select(Account).where(Account.username == username)) if username else None
    now = db.utcnow()
    if acct is None:
        locked = _unknown_locked(username, now) if username else False
        verify_password(_dummy_hash(), password)  # same cost as a real check: no username probing by timing
        if locked:
            return LoginResult(None, "login.locked")
        _note_failure(ip, username)
        return LoginResult(None, "login.bad_credentials")
    # always hashed: a locked or password-less account answers as slowly as any other
    right = verify_password(acct.password_hash or _dummy_hash(), password) and acct.password_hash is not None
    if is_locked(acct):
        return LoginResult(None, "login.locked")
    if not right:
        count_failure(acct)
        return LoginResult(None, "login.bad_credentials")
    if not acct.active:
        return LoginResult(None, "login.inactive")  # told only to whoever knows the password
    if not acct.totp_secret_enc:  # with a second factor, the count starts again only once the code is right
        acct.failed_logins = 0
    acct.locked_until = None
    acct.last_login_at = now
    if STRONG.check_needs_rehash(acct.password_hash or "") and not current_app.config["PASSWORD_HASH_FAST"]:
        acct.password_hash = hash_password(password)
    return LoginResult(acct)


def is_locked(acct: Account) -> bool:
    return acct.locked_until is not None and acct.locked_until > db.utcnow()


def count_failure(acct: Account) -> None:
    """A wrong password or second-factor code for ``acct``: counted on the server towards its lockout and
    the address's throttle, and kept although the request then answers an error."""
    _note_failure((request.remote_addr or "?") if has_request_context() else "cli", acct.username)
    acct.failed_logins += 1
    if acct.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        acct.locked_until = db.utcnow() + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        acct.failed_logins = 0
        record("account.locked", "account", acct.id, account=acct)
    db.session().commit()


_DUMMY = {fast: hash_password("jizuo-timing-equaliser", fast) for fast in (False, True)}


def _dummy_hash() -> str:
    """A hash of the same cost as the accounts' own (the tests' fast hashes in tests)."""
    return _DUMMY[bool(current_app.config["PASSWORD_HASH_FAST"])]


def _unknown_locked(username: str, now) -> bool:
    """Whether an unknown username is "locked", exactly as a real account would be after the same failures:
    every ``LOGIN_MAX_FAILURES``-th failure locks it for ``LOGIN_LOCK_MINUTES`` (failures while locked are
    not counted, as for a real account)."""
    count, last = db.session().execute(
        sa.select(sa.func.count(), sa.func.max(LoginFailure.at)).where(LoginFailure.username == username)).one()
    lock = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    return bool(count) and count % current_app.config["LOGIN_MAX_FAILURES"] == 0 and last + lock > now


def _address_throttled(ip: str) -> bool:
    """Too many failures from one address in the window: refuse before checking any password."""
    window = db.utcnow() - timedelta(minutes=current_app.config["LOGIN_IP_WINDOW_MINUTES"])
    count = db.session().scalar(sa.select(sa.func.count()).select_from(LoginFailure)
                                .where(LoginFailure.ip == ip, LoginFailure.at > window))
    return count >= current_app.config["LOGIN_IP_MAX_FAILURES"]


def _note_failure(ip: str, username: str) -> None:
    db.session().add(LoginFailure(ip=ip, username=username[:64], at=db.utcnow()))
    db.session().commit()  # kept even though the login answer is an error (the request rolls back)


def load_principal(account_id: int, district_school_id: int | None = None) -> Principal | None:
    sess = db.session()
    # the principal's own grants are read unscoped: they are what the scope is built from
    acct = sess.scalar(
        sa.select(Account).where(Account.id == account_id).execution_options(populate_existing=True, **OWN)
    )
    if acct is None or not acct.active:
        return None
    grants = []
    for m in acct.memberships:
        if m.role not in ROLES:
            continue
        class_ids: frozenset[int] = frozenset()
        if ROLES[m.role].reach == "class":
            class_ids = _classes_at(m.org_unit)
        grants.append(Grant(m.role, m.org_unit_id, m.school_id, class_ids))
    children: frozenset[int] = frozenset()
    if acct.person_kind == "guardian" and acct.person_id:
        children = frozenset(
            sess.scalars(
                sa.select(GuardianLink.student_id).where(GuardianLink.guardian_id == acct.person_id),
                execution_options=OWN,
            )
        )
    principal = Principal(
        account_id=acct.id, username=acct.username, display_name=acct.display_name,
        person_kind=acct.person_kind, person_id=acct.person_id, grants=grants, children_ids=children,
        district_school_id=district_school_id,
    )
    roles_by_school: dict[int, set[str]] = {}
    for gr in grants:
        if gr.school_id is not None:
            roles_by_school.setdefault(gr.school_id, set()).add(gr.role)
        elif district_school_id is not None and ROLES[gr.role].reach == "district":
            # a district person inside the school they entered (audited) holds there what plugins grant the role
            roles_by_school.setdefault(district_school_id, set()).add(gr.role)
    if roles_by_school:
        from foundation.plugin_runtime import plugin_caps

        principal.plugin_caps = plugin_caps(roles_by_school)
    return principal


# ---- the principal cache -----------------------------------------------------------------------------
CACHE_SIZE = 20_000  # principals kept per process (a district's staff and more); the oldest go first
_OWN_V, _ALL_V = sa.orm.aliased(PrincipalVersion), sa.orm.aliased(PrincipalVersion)
_VERSIONS = (Account.active, _OWN_V.version, _ALL_V.version)


def _with_versions(stmt):
    return (stmt.outerjoin(_OWN_V, _OWN_V.account_id == Account.id)
            .outerjoin(_ALL_V, _ALL_V.account_id == EVERYONE))


def account_versions(account_id: int) -> tuple[int, int] | None:
    """The account's (own, everyone's) principal versions; None if it is gone or disabled. One query."""
    row = db.session().execute(_with_versions(sa.select(*_VERSIONS).select_from(Account))
                               .where(Account.id == account_id), execution_options=OWN).first()
    if row is None or not row[0]:
        return None
    return row[1] or 0, row[2] or 0


def session_versions(account_id: int) -> tuple[int, int] | None | bool:
    """This browser's session checked as :func:`foundation.security.sessions.current` does (its row live,
    of this account, not older than the limit) and the account's versions, in one query. False: the session
    is not live; None: the account is gone or disabled."""
    raw = session.get(sessions.KEY)
    if not isinstance(raw, str):
        return False
    row = db.session().execute(
        _with_versions(sa.select(WebSession.account_id, WebSession.ended_at, WebSession.created_at, *_VERSIONS)
                       .select_from(WebSession).outerjoin(Account, Account.id == WebSession.account_id))
        .where(WebSession.id == sessions._digest(raw)), execution_options=OWN).first()
    if row is None or row.account_id != account_id or row.ended_at is not None \
            or not row.created_at > sessions._oldest_alive():
        return False
    if not row.active:
        return None
    return row[4] or 0, row[5] or 0


def cached_principal(account_id: int, district_school_id: int | None, versions: tuple[int, int]) -> Principal | None:
    """A fresh copy of the principal loaded for these versions (loading it if this process has none)."""
    cache: dict = current_app.extensions.setdefault("jizuo.principals", {})
    key = (account_id, district_school_id)
    hit = cache.get(key)
    if hit is None or hit[0] != versions:
        principal = load_principal(account_id, district_school_id)
        if principal is None:
            return None
        if len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache), None), None)
        cache[key] = hit = (versions, principal)
    return _copy(hit[1])


def _copy(p: Principal) -> Principal:
    """The request's own principal: what a request sets on it (an entered school, a token's limits) stays there."""
    return replace(p, grants=list(p.grants), plugin_caps={k: set(v) for k, v in p.plugin_caps.items()}, extra={})


def load_principal_cached(account_id: int, district_school_id: int | None = None) -> Principal | None:
    """:func:`load_principal` through the cache: one query for the versions, the rest only when they moved."""
    versions = account_versions(account_id)
    return None if versions is None else cached_principal(account_id, district_school_id, versions)


def _classes_at(unit: OrgUnit) -> frozenset[int]:
    if unit.kind == "class":
        return frozenset({unit.id})
    if unit.kind == "grade":
        ids = db.session().scalars(
            sa.select(OrgUnit.id).where(OrgUnit.parent_id == unit.id, OrgUnit.kind == "class"),
            execution_options=OWN,
        )
        return frozenset(ids)
    return frozenset()


def current_principal() -> Principal | None:
    return g.get("principal")


def login_user(acct: Account) -> None:
    """Sign ``acct`` in in this browser: a fresh cookie and a new session row on the server."""
    session.clear()
    sessions.begin(acct)
    session["account_id"] = acct.id
    session.permanent = True


def logout_user() -> None:
    """Sign this browser out: its session ends on the server, so a copy of the cookie is worth nothing."""
    sessions.end()
    session.clear()


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, never set on an answer to a bearer-token call (an app, not a browser)."""

    def save_session(self, app: Flask, sess, response) -> None:
        if g.get("bearer"):
            return
        super().save_session(app, sess, response)


SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# called by client software, not browsers: they authenticate themselves (client secret / PKCE)
CSRF_EXEMPT = {"oidc.token", "oidc.revoke", "oidc.introspect", "oidc.userinfo"}


def _bearer_failure(description: str):
    from foundation.errors import error_response

    resp = error_response("invalid_token", 401)
    resp.headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{description}"'
    return resp


def init_app(app: Flask) -> None:
    app.permanent_session_lifetime = timedelta(hours=8)
    app.session_interface = _SessionInterface()
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, only for cookie-authenticated requests
    from foundation import audit

    audit.init_app(app)  # the reads of a failed request are written at its end

    @app.before_request
    def _resolve_principal():
        from foundation.csrf import csrf

        g.principal = None
        set_scope(db.session(), EMPTY)
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer " and request.path.startswith("/api/"):
            from foundation.oidc.bearer import principal_for, verify_access_token

            g.bearer = True
            row = verify_access_token(header[7:].strip())
            principal = principal_for(row, load_principal_cached) if row is not None else None
            if principal is None:
                return _bearer_failure("the access token is invalid, expired or revoked")
        else:
            if request.method not in SAFE_METHODS and request.endpoint not in CSRF_EXEMPT:
                csrf.protect()
            account_id = session.get("account_id")
            if not account_id:
                return None
            versions = session_versions(account_id)
            if versions is False:  # logged out, password changed, or too old: signed out
                session.clear()
                return None
            principal = None if versions is None else \
                cached_principal(account_id, session.get("district_school_id"), versions)
            if principal is None:
                session.clear()
                return None
        g.principal = principal
        set_scope(db.session(), principal.scope())
        school = request.headers.get("X-Jizuo-School") or request.args.get("school_id")
        if principal.is_district and school and request.path.startswith("/api/"):
            if not str(school).isdigit() or not 0 < int(school) < 2**31:
                raise APIError("validation_failed", 422, {"school_id": "field.invalid_integer"})
            enter_school(principal, int(school), via="api")
        return None


def enter_school(principal: Principal, school_id: int, via: str) -> bool:
    """A district admin's explicit, audited step into one school's data. False if no such school."""
    school = db.session().scalar(
        sa.select(OrgUnit).where(OrgUnit.id == school_id, OrgUnit.kind == "school"),
        execution_options=ENTER,
    )
    if school is None:
        return False
    principal.district_school_id = school_id
    set_scope(db.session(), principal.scope())
    record("district.enter_school", "school", school_id, school_id=school_id, detail={"via": via})
    return True
