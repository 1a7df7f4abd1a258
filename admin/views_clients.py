"""The app-registration page (应用接入): school admins register their school's apps, district admins the
district's. The secret is shown once, right after registering."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, render_template, request

from admin.blueprint import bp
from foundation import db
from foundation.models import OAuthClient
from foundation.oidc.clients import ClientError, register
from foundation.oidc.scopes import SCOPES
from foundation.permissions import require


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@bp.route("/apps", methods=["GET", "POST"])
def apps():
    p = g.principal
    require(p, "clients.manage")
    schools = sorted(s for s in p.school_ids() if p.can("clients.manage", s))
    created, errors, form = None, {}, request.form
    if request.method == "POST":
        grants = form.getlist("grant_types")
        data = {"name": form.get("name", ""), "name_en": form.get("name_en") or None,
                "redirect_uris": _lines(form.get("redirect_uris", "")),
                "post_logout_redirect_uris": _lines(form.get("post_logout_redirect_uris", "")),
                "grant_types": grants, "scopes": form.getlist("scopes") or ["openid"],
                "public": form.get("public") == "on",
                "first_party": p.is_district and form.get("first_party") == "on",
                "school_id": None if p.is_district else (schools[0] if schools else -1)}
        try:
            created = register(data, created_by=p.account_id)
        except ClientError as err:
            errors = err.fields
    stmt = sa.select(OAuthClient).order_by(OAuthClient.id.desc())
    if not p.is_district:
        stmt = stmt.where(OAuthClient.school_id.in_(schools))
    rows = db.session().scalars(stmt).all()
    from werkzeug.datastructures import MultiDict

    return render_template("admin/apps.html", rows=rows, created=created, errors=errors,
                           form=MultiDict() if created else form,
                           scopes=SCOPES), (422 if errors else 200)
