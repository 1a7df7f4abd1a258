"""Several forms in one app: a main form plus follow-up forms (a leave, then a return-to-school report
返校报告) linked to the same case. A follow-up form belongs to the app (``main_form_id``, named by
``followup_key``); its submission carries the main submission's id (``parent_id``), is about the same
student, and is made from the main submission's page. The app's views show follow-up fields as columns
``<key>.<field>`` (the latest follow-up of each case)."""
from __future__ import annotations

import re

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import FormVersion, LowcodeForm, Submission

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def attach_problem(sess: so.Session, p, main_id, key, school_id: int) -> dict[str, str]:
    """Why a new form cannot become the follow-up ``key`` of the app ``main_id`` (empty: it can): the app
    must be the caller's own in the same school, itself not a follow-up, and the key free in it."""
    main = sess.get(LowcodeForm, main_id) if isinstance(main_id, int) and 0 < main_id < 2**31 else None
    if main is None or main.school_id != school_id or main.owner_account_id != p.account_id:
        return {"main_form_id": "lowcode.followup_main"}
    if main.main_form_id is not None:
        return {"main_form_id": "lowcode.followup_of_followup"}
    if not isinstance(key, str) or not KEY.fullmatch(key):
        return {"followup_key": "lowcode.followup_key"}
    taken = sess.scalar(sa.select(LowcodeForm.id).where(LowcodeForm.main_form_id == main.id,
                                                        LowcodeForm.followup_key == key))
    return {"followup_key": "lowcode.followup_key_taken"} if taken else {}


def parent_for(sess: so.Session, p, form: LowcodeForm, parent_id) -> tuple[Submission | None, dict[str, str]]:
    """The main submission a follow-up's submission follows up: required for a follow-up form, refused for
    any other; one of the app's submissions the submitter may see (their own, or in their reach)."""
    from foundation.lowcode import apps
    from foundation.lowcode.lineage import latest

    if form.main_form_id is None:
        return None, ({"parent_id": "lowcode.followup_not"} if parent_id is not None else {})
    if parent_id is None:
        return None, {"parent_id": "lowcode.followup_parent_required"}
    main = sess.get(LowcodeForm, form.main_form_id)
    version = latest(sess, main.id)
    stmt = apps.visible(sa.select(Submission).where(Submission.id == parent_id, Submission.form_id == main.id),
                        p, main, version.app if version else {})
    row = sess.scalar(stmt) if isinstance(parent_id, int) and 0 < parent_id < 2**31 else None
    if row is None or row.status in ("rejected", "withdrawn"):
        return None, {"parent_id": "lowcode.followup_parent_unknown"}
    return row, {}


def of_app(sess: so.Session, form_id: int) -> list[dict]:
    """The app's follow-up forms that are published: ``[{"id", "key", "title"}]``, for the main page's buttons."""
    rows = sess.execute(sa.select(LowcodeForm.id, LowcodeForm.followup_key, LowcodeForm.title)
                        .where(LowcodeForm.main_form_id == form_id)
                        .where(sa.exists().where(FormVersion.form_id == LowcodeForm.id))
                        .order_by(LowcodeForm.id))
    return [{"id": i, "key": k, "title": t} for i, k, t in rows]


def add_columns(sess: so.Session, form: LowcodeForm, view: dict, rows: list[dict]) -> None:
    """Fill the view's ``<key>.<field>`` columns of each main row from its latest follow-up of that key,
    into the row's data (so that filters, sort and aggregates treat them like the app's own fields)."""
    wanted = {c for c in (view.get("columns") or []) + (view.get("filters") or []) if isinstance(c, str) and "." in c}
    if not wanted or not rows:
        return
    keys = {c.split(".", 1)[0] for c in wanted}
    forms = dict(sess.execute(sa.select(LowcodeForm.id, LowcodeForm.followup_key).where(
        LowcodeForm.main_form_id == form.id, LowcodeForm.followup_key.in_(keys))).all())
    if not forms:
        return
    by_parent: dict[tuple[int, str], dict] = {}
    ids = [r["id"] for r in rows]
    for sub in sess.scalars(sa.select(Submission).where(Submission.parent_id.in_(ids), Submission.form_id.in_(forms))
                            .order_by(Submission.id)):
        by_parent[(sub.parent_id, forms[sub.form_id])] = sub.data or {}  # the latest one stands
    for r in rows:
        extra = {c: by_parent.get((r["id"], c.split(".", 1)[0]), {}).get(c.split(".", 1)[1]) for c in wanted}
        r["data"] = {**r["data"], **{k: v for k, v in extra.items() if v is not None}}
