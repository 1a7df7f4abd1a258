"""The standards catalogue (数据标准) and the conflict queue (数据冲突) in the web shell."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, redirect, render_template, request, url_for

from admin.blueprint import bp
from admin.context import is_staff
from foundation import db
from foundation.audit import record
from foundation.models import Authority, Conflict
from foundation.permissions import require
from foundation.services.authority import apply_conflict
from foundation.standards import catalog

LEVELS = {"public": "公开", "internal": "内部", "sensitive": "敏感", "highly_sensitive": "高度敏感"}


@bp.get("/standards")
def standards():
    if not is_staff(g.principal):  # the district's data standard is staff reading, not a family's page
        abort(403)
    cat = catalog()
    libs = sorted(cat.libraries.values(), key=lambda lib: (lib["kind"], lib["id"]))
    return render_template("admin/standards.html", libs=libs, dictionaries=sorted(cat.dictionaries.values(),
                           key=lambda d: d["id"]), templates=sorted(cat.iot_templates.values(), key=lambda x: x["id"]),
                           levels=LEVELS)


@bp.get("/standards/<library_id>")
def standard_library(library_id: str):
    lib = catalog().libraries.get(library_id)
    if lib is None:
        abort(404)
    owners = {a.element: a.source for a in db.session().scalars(
        sa.select(Authority).where(Authority.library == library_id))}
    return render_template("admin/standard_library.html", lib=lib, owners=owners, levels=LEVELS,
                           dictionaries=catalog().dictionaries)


@bp.route("/conflicts", methods=["GET", "POST"])
def conflicts():
    p = g.principal
    require(p, "conflicts.resolve")
    if request.method == "POST":
        c = db.session().scalar(sa.select(Conflict).where(Conflict.id == request.form.get("id", type=int),
                                                          Conflict.status == "pending"))
        if c is None:
            abort(404)
        require(p, "conflicts.resolve", c.school_id)
        decision = request.form.get("decision")
        if decision == "accept":
            apply_conflict(db.session(), c)
        c.status = "accepted" if decision == "accept" else "rejected"
        c.decided_by, c.decided_at = p.account_id, db.utcnow()
        record(f"standards.conflict.{'accept' if decision == 'accept' else 'reject'}", "conflict", c.id,
               school_id=c.school_id)
        return redirect(url_for("admin.conflicts"))
    rows = db.session().scalars(sa.select(Conflict).where(Conflict.status == "pending").order_by(Conflict.id)
                                .limit(200)).all()
    return render_template("admin/conflicts.html", rows=rows)
