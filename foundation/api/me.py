"""``/api/v1/me``: who am I, what may I do, and the CSRF token for browser calls."""
from __future__ import annotations

from flask import jsonify

from foundation.api.blueprint import bp
from foundation.api.common import principal
from foundation.csrf import generate_csrf
from foundation.permissions import ROLES


@bp.get("/me")
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
