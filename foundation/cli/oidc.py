"""``jizuo clients …``, ``jizuo token`` and ``jizuo keys rotate``: the OIDC provider from the shell."""
from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from foundation import db
from foundation.cli.common import district_session
from foundation.i18n import t


@click.group("clients")
def clients_cmd() -> None:
    """Register and manage OIDC clients (apps, plugins, vendors)."""


@clients_cmd.command("create")
@click.option("--name", required=True)
@click.option("--name-en", default=None)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-uri", "post_logout", multiple=True)
@click.option("--grant", "grants", multiple=True, default=["authorization_code", "refresh_token"], show_default=True)
@click.option("--scope", "scopes", multiple=True, default=["openid", "profile"], show_default=True)
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE only), e.g. a mobile app.")
@click.option("--first-party", is_flag=True, help="No consent screen (the district's own apps).")
@click.option("--school-code", default=None, help="Restrict the client to one school (its 10-digit code).")
@click.option("--client-id", default=None)
@with_appcontext
def clients_create(name, name_en, redirect_uris, post_logout, grants, scopes, public, first_party, school_code,
                   client_id) -> None:
    """Register a client; prints its id and (once) its secret as JSON."""
    from foundation.models import OrgUnit
    from foundation.oidc.clients import ClientError, register

    sess = district_session()
    school_id = None
    if school_code:
        school_id = sess.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == school_code, OrgUnit.kind == "school"))
        if school_id is None:
            raise click.ClickException(f"no school with code {school_code}")
    try:
        reg = register({"name": name, "name_en": name_en, "redirect_uris": list(redirect_uris),
                        "post_logout_redirect_uris": list(post_logout), "grant_types": list(grants),
                        "scopes": list(scopes), "public": public, "first_party": first_party, "school_id": school_id,
                        "client_id": client_id})
    except ClientError as err:
        raise click.ClickException("; ".join(f"{k}: {t(v, 'en')}" for k, v in err.fields.items())) from err
    sess.commit()
    click.echo(json.dumps({"client_id": reg.client.client_id, "client_secret": reg.secret,
                           "school_id": school_id, "scopes": reg.client.scopes}, ensure_ascii=False))


@clients_cmd.command("list")
@with_appcontext
def clients_list() -> None:
    from foundation.models import OAuthClient

    for c in district_session().scalars(sa.select(OAuthClient).order_by(OAuthClient.id)):
        flags = ",".join(f for f, on in (("public", c.public), ("first-party", c.first_party),
                                         ("disabled", not c.active)) if on)
        click.echo(f"{c.client_id:<26} {c.name:<20} school={c.school_id or 'district'} grants={'/'.join(c.grant_types)} "
                   f"scopes={' '.join(c.scopes)} {flags}")


@clients_cmd.command("disable")
@click.argument("client_id")
@with_appcontext
def clients_disable(client_id: str) -> None:
    """Disable a client: its tokens stop working at once."""
    from foundation.models import OAuthClient

    sess = district_session()
    client = sess.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        raise click.ClickException(f"no client {client_id}")
    from foundation.oidc.clients import disable

    revoked = disable(client)
    sess.commit()
    click.echo(f"{client_id} disabled; {revoked} token(s) revoked")


@click.command("token")
@click.option("--account", "username", required=True)
@click.option("--client", "client_id", default=None, help="Default: a first-party 'jizuo-cli' client.")
@click.option("--scope", default="openid profile students.read org.read", show_default=True)
@with_appcontext
def token_cmd(username: str, client_id: str | None, scope: str) -> None:
    """Print an access token for an account (local administrators' tool for scripts and demos)."""
    from foundation.oidc.tokens import issue_for_account

    district_session()
    try:
        click.echo(issue_for_account(username, client_id, scope))
    except ValueError as err:
        raise click.ClickException(str(err)) from err


@click.group("keys")
def keys_cmd() -> None:
    """Signing keys of the OIDC provider."""


@keys_cmd.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Start signing with a new key; the old one keeps verifying its tokens until they expire."""
    from foundation.oidc import keys

    district_session()
    kid = keys.rotate()
    db.session().commit()
    click.echo(f"new signing key {kid}")


@click.group("upstream")
def upstream_cmd() -> None:
    """Upstream OpenID providers parents and citizens sign in with (city portal, parent portal)."""


@upstream_cmd.command("add")
@click.option("--slug", required=True, help="Short name in URLs, e.g. suishenban.")
@click.option("--name", required=True, help="Button label, e.g. 随申办.")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--client-secret", prompt=True, hide_input=True)
@click.option("--scope", default="openid profile", show_default=True)
@click.option("--id-claim", default=None, help="Verified claim carrying the national ID number, e.g. id_card_number.")
@click.option("--id-verified-claim", default=None, help="Claim that must be true for --id-claim to count.")
@with_appcontext
def upstream_add(slug, name, issuer, client_id, client_secret, scope, id_claim, id_verified_claim) -> None:
    """Register an upstream provider (district admin)."""
    from foundation.federation.admin import UpstreamConfigError, add_provider

    district_session()
    try:
        add_provider(slug=slug, name=name, issuer=issuer, client_id=client_id, client_secret=client_secret,
                     scopes=scope, id_claim=id_claim, id_verified_claim=id_verified_claim)
    except UpstreamConfigError as err:
        raise click.ClickException(str(err)) from err
    db.session().commit()
    click.echo(f"upstream {slug} added; callback URL: <jizuo>/login/federated/{slug}/callback")


@upstream_cmd.command("list")
@with_appcontext
def upstream_list() -> None:
    from foundation.models import UpstreamProvider

    for row in district_session().scalars(sa.select(UpstreamProvider).order_by(UpstreamProvider.id)):
        click.echo(f"{row.slug:<16} {row.name:<10} {row.issuer} client={row.client_id} "
                   f"id_claim={row.id_claim or '-'} {'enabled' if row.enabled else 'disabled'}")
