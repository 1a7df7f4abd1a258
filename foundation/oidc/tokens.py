"""Issuing a token without a browser: ``jizuo token`` (an administrator's local tool; it needs database
access, like the server). The token is an ordinary access token: same signature, same revocation."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from foundation import db
from foundation.models import Account, OAuthClient, OAuthToken
from foundation.oidc.scopes import SCOPES, unknown
from foundation.oidc.server import ACCESS_TTL, AccessTokens, Client, User, _claims_of

CLI_CLIENT = "jizuo-cli"


def _cli_client() -> OAuthClient:
    sess = db.session()
    row = sess.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == CLI_CLIENT))
    if row is None:
        row = OAuthClient(client_id=CLI_CLIENT, name="基座命令行", name_en="Jizuo CLI", grant_types=[],
                          scopes=sorted(SCOPES), first_party=True, public=False)
        sess.add(row)
        sess.flush()
    return row


def issue_for_account(username: str, client_id: str | None, scope: str) -> str:
    sess = db.session()  # the jizuo token command's session, which acts for the district
    acct = sess.scalar(sa.select(Account).where(Account.username == username))
    if acct is None or not acct.active:
        raise ValueError(f"no active account {username!r}")
    row = (sess.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_id)) if client_id
           else _cli_client())
    if row is None:
        raise ValueError(f"no client {client_id!r}")
    bad = unknown(scope) or [s for s in scope.split() if s not in row.scopes]
    if bad:
        raise ValueError(f"scope not allowed for {row.client_id}: {' '.join(bad)}")
    base = current_app.config.get("OIDC_ISSUER") or "http://127.0.0.1:8000"
    with current_app.test_request_context(base_url=base):
        token = AccessTokens().access_token_generator(Client(row), "urn:jizuo:cli", User(acct), scope)
        claims = _claims_of(token)
        sess.add(OAuthToken(jti=claims["jti"], client_id=row.client_id, account_id=acct.id, scope=scope,
                            family=claims["jti"], issued_at=claims["iat"], expires_in=ACCESS_TTL))
        sess.commit()
    return token
