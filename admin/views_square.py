"""应用广场: the catalogue schools install from; the district reviews, publishes and retires from here;
school admins install, switch off (with a reason, after a dialog saying what happens to the data) and
uninstall their school's plugins, and see what was done with each, by whom and why."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, redirect, render_template, request, url_for

from admin.blueprint import bp
from admin.context import is_staff
from foundation import db
from foundation.api.plugins import history as plugin_history
from foundation.audit import local_time, record
from foundation.models import AppListing, PluginInstall
from foundation.permissions import require
from foundation.plugin_runtime import host
from foundation.services import square

ACTIONS = {"submitted": ["review"], "in_review": ["publish", "return"], "published": ["deprecate", "promote"],
           "deprecated": ["restore", "retire"], "retired": []}


@bp.route("/square", methods=["GET", "POST"])
def app_square():
    p = g.principal
    if not is_staff(p):  # a school's and the district's tool; families have nothing to install here
        abort(403)
    sess = db.session()
    square.list_plugins(sess, host().loaded)
    reviewer = p.can("square.review")
    error = None
    if request.method == "POST":
        require(p, "square.review")
        row = sess.scalar(sa.select(AppListing).where(AppListing.id == request.form.get("id", type=int)))
        if row is None:
            abort(404)
        try:
            square.step(sess, row, request.form.get("action", ""), account_id=p.account_id, name=p.username,
                        reason=request.form.get("reason"))
            record(f"square.{request.form.get('action')}", "listing", row.id, detail={"key": row.key})
            return redirect(url_for("admin.app_square"))
        except square.SquareError as err:
            error = err.key
    stmt = sa.select(AppListing).order_by(AppListing.status, AppListing.key)
    if not reviewer:
        stmt = stmt.where(sa.or_(AppListing.status == "published", AppListing.owner_school_id.in_(p.school_ids())))
    rows = sess.scalars(stmt).all()
    installed, history = {}, {}
    schools = [s for s in p.school_ids() if p.can("plugins.manage", s)]
    if schools:
        installed = {i.plugin: i for i in sess.scalars(sa.select(PluginInstall).where(
            PluginInstall.school_id == schools[0]))}
        history = {r.key: plugin_history(r.key, schools[0], limit=5) for r in rows if r.kind == "plugin"}
    return render_template("admin/square.html", rows=[(r, square.reuse(sess, r)) for r in rows], reviewer=reviewer,
                           actions=ACTIONS, installed=installed, can_install=bool(schools), error=error,
                           history=history, local_time=local_time, left_out=host().failures if reviewer else [])
