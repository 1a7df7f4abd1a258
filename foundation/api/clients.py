"""Registering apps (OIDC clients) through the API: school admins for their school, district admins for
the district. The secret is shown once."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from marshmallow import Schema, fields, validate

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import load_body, principal
from foundation.api.schemas import Strict
from foundation.errors import NotFound, ValidationFailed
from foundation.models import OAuthClient
from foundation.oidc.clients import GRANTS, ClientError, register, rotate_secret
from foundation.permissions import require


class ClientIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120, error="field.length:{max}"))
    name_en = fields.String(allow_none=True, validate=validate.Length(max=120, error="field.length:{max}"))
    redirect_uris = fields.List(fields.String(validate=validate.Length(max=500)), load_default=list)
    post_logout_redirect_uris = fields.List(fields.String(validate=validate.Length(max=500)), load_default=list)
    grant_types = fields.List(fields.String(validate=validate.OneOf(GRANTS, error="field.one_of")), required=True)
    scopes = fields.List(fields.String(), load_default=lambda: ["openid"])
    public = fields.Boolean(load_default=False)
    first_party = fields.Boolean(load_default=False)
    school_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1, error="field.range:{min}-{max}"))


class ClientOut(Schema):
    client_id = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    redirect_uris = fields.List(fields.String())
    post_logout_redirect_uris = fields.List(fields.String())
    grant_types = fields.List(fields.String())
    scopes = fields.List(fields.String())
    public = fields.Boolean()
    first_party = fields.Boolean()
    school_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


class ClientCreated(ClientOut):
    client_secret = fields.String(allow_none=True, metadata={"description": "shown once; none for a public app"})


class SecretOut(Schema):
    client_id = fields.String()
    client_secret = fields.String()


def _visible_clients():
    p = principal()
    stmt = sa.select(OAuthClient).order_by(OAuthClient.id)
    if p.is_district and p.can("clients.manage"):
        return stmt
    return stmt.where(OAuthClient.school_id.in_([s for s in p.school_ids() if p.can("clients.manage", s)]))


@bp.get("/clients")
@doc("Registered apps you manage", tags=["clients"], response=ClientOut, many=True)
def list_clients():
    require(principal(), "clients.manage")
    rows = db.session().scalars(_visible_clients()).all()
    items = ClientOut(many=True).dump(rows)
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/clients")
@doc("Register an app; the answer carries its secret, once", tags=["clients"], body=ClientIn,
     response=ClientCreated, status=201)
def create_client():
    p = principal()
    data = load_body(ClientIn())
    if p.is_district:
        require(p, "clients.manage")
        if data.get("school_id") is None and not p.can("district.cross_school"):
            raise ValidationFailed({"school_id": ["field.required"]})
    else:
        schools = [s for s in p.school_ids() if p.can("clients.manage", s)]
        if not schools:
            require(p, "clients.manage", -1)
        school = data.get("school_id") or (schools[0] if len(schools) == 1 else None)
        if school not in schools:
            raise ValidationFailed({"school_id": ["org.school_unknown"]})
        data["school_id"] = school
        data["first_party"] = False  # only the district vouches for first-party apps (no consent screen)
    try:
        reg = register(data, created_by=p.account_id)
    except ClientError as err:
        raise ValidationFailed({k: [v] for k, v in err.fields.items()}) from err
    return jsonify(ClientOut().dump(reg.client) | {"client_secret": reg.secret}), 201


def _mine(client_id: str) -> OAuthClient:
    require(principal(), "clients.manage")
    row = db.session().scalar(_visible_clients().where(OAuthClient.client_id == client_id[:64]))
    if row is None:
        raise NotFound("client")
    return row


@bp.post("/clients/<client_id>/secret")
@doc("Rotate an app's secret (the old one stops working)", tags=["clients"], response=SecretOut)
def rotate_client_secret(client_id: str):
    row = _mine(client_id)
    if row.public:
        raise ValidationFailed({"public": ["client.public_no_secret"]})
    return jsonify({"client_id": row.client_id, "client_secret": rotate_secret(row)})


@bp.post("/clients/<client_id>/disable")
@doc("Disable an app: its tokens stop working at once", tags=["clients"], response=ClientOut)
def disable_client(client_id: str):
    row = _mine(client_id)
    from foundation.oidc.clients import disable

    disable(row)
    return jsonify(ClientOut().dump(row))
