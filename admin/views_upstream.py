"""District admins register the portals people sign in with (随申办, parent portals)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, render_template, request

from admin.blueprint import bp
from foundation import db
from foundation.federation.admin import UpstreamConfigError, add_provider
from foundation.models import UpstreamProvider
from foundation.permissions import require


@bp.route("/district/upstreams", methods=["GET", "POST"])
def upstreams():
    require(g.principal, "district.cross_school")
    error = added = None
    if request.method == "POST":
        f = request.form
        try:
            added = add_provider(slug=f.get("slug", "").strip(), name=f.get("name", "").strip(),
                                 issuer=f.get("issuer", "").strip().rstrip("/"), client_id=f.get("client_id", "").strip(),
                                 client_secret=f.get("client_secret", ""), scopes=f.get("scopes") or "openid profile",
                                 id_claim=f.get("id_claim") or None, id_verified_claim=f.get("id_verified_claim") or None)
        except UpstreamConfigError as err:
            error = str(err)
    rows = db.session().scalars(sa.select(UpstreamProvider).order_by(UpstreamProvider.id))
    return render_template("admin/upstreams.html", rows=rows.all(), error=error, added=added,
                           callback=request.host_url.rstrip("/") + "/login/federated/"), (422 if error else 200)
