"""The Authlib authorization server: clients, grants, token storage, revocation, introspection."""
from __future__ import annotations

import base64
import json
import secrets
import time

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import UserInfo
from authlib.oidc.core.errors import RequestNotSupportedError
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.grants.util import is_openid_scope
from flask import Flask

from foundation import db
from foundation.models import Account, AuthorizationCode, OAuthClient, OAuthToken, SigningKey
from foundation.oidc import keys
from foundation.oidc.bearer import client_active, verify_access_token
from foundation.oidc.common import api_audience, issuer, sha256
from foundation.oidc.scopes import unknown
from foundation.oidc.subjects import subject_of
from foundation.tenancy import unscoped

ACCESS_TTL = 3600
REFRESH_TTL = 30 * 86400
CODE_TTL = 300
# the provider acts for the whole district: an account's roles, in every school, go into its tokens
DISTRICT = unscoped("OIDC provider: accounts and their roles in every school, for tokens and claims")
server = AuthorizationServer()


# ---- adapters Authlib calls ----------------------------------------------------------------------
class Client(ClientMixin):
    def __init__(self, row: OAuthClient) -> None:
        self.row = row
        self.client_id = row.client_id

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if len(self.row.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str) -> str:
        """The requested scope, whole, or an error: a scope not granted to the client is refused, never
        silently dropped."""
        if not scope:
            return " ".join(s for s in self.row.scopes if s in ("openid", "profile")) or ""
        asked = scope.split()
        missing = [s for s in asked if s not in self.row.scopes]
        if unknown(scope) or missing:
            raise InvalidScopeError(description=f"scope not allowed for this client: {' '.join(unknown(scope) or missing)}")
        return " ".join(dict.fromkeys(asked))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris  # exact string match, nothing else

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.row.secret_hash) and secrets.compare_digest(self.row.secret_hash, sha256(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


class User:
    """The signed-in person; at the authorization endpoint also when and how they logged in (the session's)."""

    def __init__(self, account: Account, auth_time: int | None = None, amr: list[str] | None = None) -> None:
        self.account = account
        self.auth_time, self.amr = auth_time, amr

    def get_user_id(self) -> str:
        return subject_of(self.account)


class Code:
    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return self.row.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str] | None:
        return self.row.amr


class Token:
    def __init__(self, row: OAuthToken, refresh: bool = False) -> None:
        self.row, self.refresh = row, refresh

    def check_client(self, client: Client) -> bool:
        return self.row.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return self.row.expires_in

    def is_expired(self) -> bool:
        return self.row.issued_at + self.row.expires_in < time.time()

    def is_revoked(self) -> bool:
        return self.row.access_revoked


def _one(stmt):
    return db.session().scalar(stmt, execution_options=DISTRICT)


def query_client(client_id: str) -> Client | None:
    """The active client, read with the current signing key's kid in the same round trip (the token it may
    be about to get is signed with that key: :func:`keys.active_key` takes it from the request)."""
    kid = (sa.select(SigningKey.kid).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.id.desc())
           .limit(1).scalar_subquery())
    found = db.session().execute(sa.select(OAuthClient, kid).where(
        OAuthClient.client_id == client_id, OAuthClient.active.is_(True)), execution_options=DISTRICT).first()
    if found is None:
        return None
    keys.note_active_kid(found[1])
    return Client(found[0])


def revoke_family(family: str) -> None:
    db.session().execute(
        sa.update(OAuthToken).where(OAuthToken.family == family).values(access_revoked=True, refresh_revoked=True))


def _claims_of(access_token: str) -> dict:
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def save_token(token: dict, req) -> None:
    claims = _claims_of(token["access_token"])
    family, code_id = secrets.token_hex(16), None
    if getattr(req, "refresh_token", None) is not None:  # a rotation: same family
        family = req.refresh_token.row.family
    if getattr(req, "authorization_code", None) is not None:
        code_id = req.authorization_code.row.id
    refresh = token.get("refresh_token")
    sess = db.session()
    t = OAuthToken.__table__
    values = dict(
        jti=claims["jti"], refresh_hash=sha256(refresh) if refresh else None, client_id=req.client.get_client_id(),
        account_id=req.user.account.id if req.user else None, scope=token.get("scope", ""), family=family,
        code_id=code_id, issued_at=claims["iat"], expires_in=token["expires_in"],
        refresh_expires_at=claims["iat"] + REFRESH_TTL if refresh else None,
        access_revoked=False, refresh_revoked=False, rotated=False,
    )
    # one INSERT, no unit of work: nothing in this request reads the row back as an object
    if req.user is None and not refresh and code_id is None and sess.get_bind().dialect.name == "postgresql":
        # a client-credentials token: the row is all this transaction writes, and losing it in a crash of the
        # database server only makes the token invalid (verify_access_token needs the row) — so its commit need
        # not wait for the disk (set in the same statement). Codes and refresh rotations stay durable (replay).
        relaxed = sa.select(sa.func.set_config("synchronous_commit", "off", True).label("s")).subquery()
        row = sa.select(*(sa.literal(v, t.c[k].type).label(k) for k, v in values.items())).select_from(relaxed)
        sess.execute(sa.insert(t).from_select(list(values), row))
    else:
        sess.execute(sa.insert(t).values(**values))


# ---- grants --------------------------------------------------------------------------------------
class S256Only(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required", redirect_uri=redirect_uri)
        return super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def validate_authorization_request(self) -> str:
        """Authlib's checks, and what it would let through: an OpenID request must name its redirect_uri
        (OIDC Core 3.1.2.1; the error is a page, as nothing was proven), request objects are not supported,
        and the only response mode is ``query``."""
        payload = self.request.payload
        if is_openid_scope(payload.scope) and not payload.redirect_uri:
            raise InvalidRequestError("redirect_uri is required in an OpenID Connect request")
        redirect_uri = super().validate_authorization_request()
        for name in ("request", "request_uri"):
            if name in payload.data:
                raise RequestNotSupportedError(f"the {name} parameter is not supported", redirect_uri=redirect_uri)
        mode = payload.data.get("response_mode")
        if mode is not None and mode != "query":
            raise InvalidRequestError("response_mode: only 'query' is supported", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, req) -> None:
        data = req.payload.data
        db.session().add(AuthorizationCode(
            code_hash=sha256(code), client_id=req.client.get_client_id(), account_id=req.user.account.id,
            redirect_uri=req.payload.redirect_uri or req.client.get_default_redirect_uri(), scope=req.payload.scope,
            nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"), auth_time=req.user.auth_time, amr=req.user.amr,
        ))
        db.session().flush()

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        row = _one(sa.select(AuthorizationCode).where(AuthorizationCode.code_hash == sha256(code)))
        if row is None or row.client_id != client.get_client_id():
            return None
        if row.used_at is not None:
            # a replayed code: revoke whatever was issued from it (RFC 6749 §4.1.2)
            for family in db.session().scalars(sa.select(OAuthToken.family).where(OAuthToken.code_id == row.id)):
                revoke_family(family)
            db.session().commit()
            return None
        if row.created_at.timestamp() + CODE_TTL < db.utcnow().timestamp():
            return None
        return Code(row)

    def delete_authorization_code(self, code: Code) -> None:
        code.row.used_at = db.utcnow()

    def authenticate_user(self, code: Code) -> User | None:
        acct = _one(sa.select(Account).where(Account.id == code.row.account_id, Account.active.is_(True)))
        return User(acct) if acct else None


class JizuoOpenIDCode(OpenIDCode):
    def resolve_client_private_key(self, client):
        return keys.active_key()[1]

    def get_client_algorithm(self, client) -> str:
        return "RS256"

    def get_encode_header(self, client) -> dict:
        return {"alg": "RS256", "kid": keys.active_key()[0], "typ": "JWT"}

    def get_client_claims(self, client) -> dict:
        return {"iss": issuer(), "aud": [client.get_client_id()], "exp": int(time.time()) + ACCESS_TTL}

    def exists_nonce(self, nonce: str, req) -> bool:
        return _one(sa.select(AuthorizationCode.id).where(
            AuthorizationCode.client_id == req.payload.client_id, AuthorizationCode.nonce == nonce)) is not None

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return UserInfo(sub=user.get_user_id())  # minors' data stays out of ID tokens: userinfo, by scope


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = _one(sa.select(OAuthToken).where(OAuthToken.refresh_hash == sha256(refresh_token)))
        if row is None:
            return None
        if row.refresh_revoked or row.rotated:
            if row.rotated:  # a refresh token used twice: someone has a copy; end the whole chain
                revoke_family(row.family)
                db.session().commit()
            return None
        if row.refresh_expires_at and row.refresh_expires_at < time.time():
            return None
        return Token(row)

    def authenticate_user(self, refresh_token: Token) -> User | None:
        acct = _one(sa.select(Account).where(Account.id == refresh_token.row.account_id, Account.active.is_(True)))
        return User(acct) if acct else None

    def revoke_old_credential(self, refresh_token: Token) -> None:
        refresh_token.row.rotated = True
        refresh_token.row.access_revoked = True


class ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


# ---- revocation and introspection -----------------------------------------------------------------
def _token_row(token: str, hint: str | None) -> OAuthToken | None:
    by_refresh = _one(sa.select(OAuthToken).where(OAuthToken.refresh_hash == sha256(token)))
    if by_refresh is not None:
        return by_refresh
    try:
        jti = _claims_of(token).get("jti")
    except (ValueError, IndexError):
        return None
    return _one(sa.select(OAuthToken).where(OAuthToken.jti == jti)) if jti else None


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token: str, hint: str | None):
        row = _token_row(token, hint)
        return Token(row) if row else None

    def revoke_token(self, token: Token, req) -> None:
        if token.row.refresh_hash:
            revoke_family(token.row.family)
        token.row.access_revoked = True
        token.row.refresh_revoked = True


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token: str, hint: str | None):
        row = _token_row(token, hint)
        if row is None:
            return None
        if row.refresh_hash == sha256(token):
            live = not (row.refresh_revoked or row.rotated or (row.refresh_expires_at or 0) < time.time())
            return Token(row, refresh=True) if live and client_active(row.client_id) else None
        return Token(row) if verify_access_token(token) is not None else None

    def introspect_token(self, token: Token) -> dict:
        row = token.row
        acct = _one(sa.select(Account).where(Account.id == row.account_id)) if row.account_id else None
        answer = {"active": True, "client_id": row.client_id, "scope": row.scope,
                  "sub": subject_of(acct) if acct else row.client_id, "iss": issuer(), "iat": row.issued_at}
        if token.refresh:  # the refresh token's own lifetime; the access token's jti is not its business
            return answer | {"exp": row.refresh_expires_at}
        return answer | {"token_type": "Bearer", "jti": row.jti, "exp": row.issued_at + row.expires_in}

    def check_permission(self, token: Token, client: Client, req) -> bool:
        return token.row.client_id == client.get_client_id()  # a client introspects its own tokens only


class AccessTokens(JWTBearerTokenGenerator):
    def __init__(self) -> None:
        super().__init__(issuer="", alg="RS256", refresh_token_generator=lambda **kw: secrets.token_urlsafe(48),
                         expires_generator=lambda client, grant_type: ACCESS_TTL)

    @property
    def issuer(self) -> str:  # per request, never shared between threads
        return issuer()

    @issuer.setter
    def issuer(self, _value: str) -> None:  # the base class assigns it once; the request decides
        pass

    def get_jwks(self):
        from joserfc.jwk import KeySet

        kid, key = keys.active_key()
        return KeySet([key])

    def generate(self, grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        """A refresh token only when ``offline_access`` was asked for and granted (and the client may refresh)."""
        offline = "offline_access" in (scope or "").split()
        return super().generate(grant_type, client, user, scope, expires_in, include_refresh_token and offline)

    def get_audiences(self, client, user, scope) -> list[str]:
        return [api_audience(), client.get_client_id()]

    def get_extra_claims(self, client, grant_type, user, scope) -> dict:
        """The reach the API will enforce, for resource servers to read: the client's school (None =
        district) and the person's roles with their org units. No names, no student data."""
        claims: dict = {"jizuo_school": client.row.school_id}
        if user is not None:
            claims["jizuo_roles"] = [{"role": m.role, "org_unit": m.org_unit_id, "school": m.school_id}
                                     for m in user.account.memberships]
        return claims


def init_server(app: Flask) -> None:
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", None)
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.scopes_supported = None  # checked per client in Client.get_allowed_scope (with our own message)
    server.register_token_generator("default", AccessTokens())
    server.register_grant(CodeGrant, [S256Only(required=True), JizuoOpenIDCode(require_nonce=False)])
    server.register_grant(RefreshGrant)
    server.register_grant(ClientCredentials)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
