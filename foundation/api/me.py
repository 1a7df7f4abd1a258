"""``/api/v1/me``: who am I, what may I do, and the CSRF token for browser calls."""
from __future__ import annotations

from flask import jsonify
from marshmallow import Schema, fields

from foundation.api.blueprint import bp, doc
from foundation.api.common import principal
from foundation.csrf import generate_csrf
from foundation.permissions import ROLES


class Words(Schema):
    zh = fields.String()
    en = fields.String()


class PersonRef(Schema):
    kind = fields.String(allow_none=True)
    id = fields.Integer(allow_none=True)


class Grant(Schema):
    role = fields.String()
    title = fields.Nested(Words)
    org_unit_id = fields.Integer(allow_none=True)
    school_id = fields.Integer(allow_none=True)


class MeOut(Schema):
    account_id = fields.Integer(allow_none=True, metadata={"description": "none for an app's own token"})
    username = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)
    person = fields.Nested(PersonRef)
    roles = fields.List(fields.Nested(Grant))
    capabilities = fields.List(fields.String())
    children = fields.List(fields.Integer(), metadata={"description": "a family's students"})
    csrf_token = fields.String(metadata={"description": "send it as X-CSRFToken on writes with the cookie"})


@bp.get("/me")
@doc("Who you are: the account, its roles and capabilities, a family's children, and the CSRF token for "
     "writes made with the session cookie", tags=["me"], response=MeOut, forbidden=False)
def me():
    p = principal()
    return jsonify({
        "account_id": p.account_id, "username": p.username, "display_name": p.display_name,
        "person": {"kind": p.person_kind, "id": p.person_id},
        "roles": [{"role": g.role, "title": {"zh": ROLES[g.role].zh, "en": ROLES[g.role].en},
                   "org_unit_id": g.org_unit_id, "school_id": g.school_id} for g in p.grants],
        "capabilities": sorted(p.capabilities()),
        "children": sorted(p.children_ids),
        "csrf_token": generate_csrf(),
    })
