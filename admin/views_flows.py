"""Approval flows in the web shell (foundation/lowcode/flow.py): 待我审批 — what awaits me across apps, with
filters and batch decisions after one confirmation; 我的提交 — my submissions and the step each waits at; a
submission's page with its timeline (withdraw, decide, return for changes) and its follow-ups; and naming a
deputy while I am away. (The page to change a returned submission is the fill page: admin/views_forms.py.)"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, g, redirect, render_template, request, url_for

from admin.blueprint import bp
from foundation import db
from foundation.api import flows as api
from foundation.errors import NotFound, ValidationFailed
from foundation.i18n import current_lang
from foundation.lowcode import editor, flow, followups
from foundation.lowcode.lineage import latest
from foundation.models import Account, FormVersion, LowcodeForm, Membership, Submission
from foundation.permissions import Forbidden, require


@bp.get("/approvals")
def flow_approvals():
    require(g.principal, "lowcode.approve")
    everything = flow.tasks_for(db.session(), g.principal)
    tasks = api.filtered_tasks(request.args)
    apps = {t["form_id"]: t["app"] for t in everything}
    classes = {t["class_id"]: t["class"] for t in everything if t["class_id"]}
    return render_template("admin/flow_approvals.html", tasks=tasks, apps=apps, classes=classes,
                           error=request.args.get("error"))


@bp.post("/approvals/decide")
def flow_approvals_decide():
    """First the confirmation (what is selected, the decision, the note), then — confirmed — all of it."""
    require(g.principal, "lowcode.approve")
    try:
        ids = [int(x) for x in request.form.getlist("task")]
    except ValueError:
        abort(400)
    decision, note = request.form.get("decision"), request.form.get("note", "")[:300]
    if not ids or decision not in flow.DECISIONS:
        return redirect(url_for("admin.flow_approvals", error="flow.tasks_required"))
    if request.form.get("confirm") != "1":
        mine = {t["id"]: t for t in flow.tasks_for(db.session(), g.principal)}
        chosen = [mine[i] for i in ids if i in mine]
        return render_template("admin/flow_confirm.html", tasks=chosen, decision=decision, note=note)
    try:
        api.decide_many(ids, decision, note)
    except ValidationFailed as err:
        return redirect(url_for("admin.flow_approvals", error=next(iter(err.fields.values()))[0]))
    return redirect(url_for("admin.flow_approvals", done=len(ids)))


@bp.get("/my/submissions")
def flow_mine():
    return render_template("admin/flow_mine.html", rows=api.my_submissions())


@bp.get("/flow/submissions/<int:submission_id>")
def flow_submission(submission_id: int):
    """The submission: its answers (words, not keys), its follow-ups' answers under them and a button for each
    follow-up form the viewer may fill, its timeline (with what each resubmission changed), and the
    submitter's and the approver's actions."""
    try:
        sub = api.visible_submission(submission_id)
    except NotFound:
        abort(404)
    sess = db.session()
    form = sess.scalar(sa.select(LowcodeForm).where(LowcodeForm.id == sub.form_id))
    task = next((t for t in flow.tasks_for(sess, g.principal) if t["submission_id"] == sub.id), None)
    lang = current_lang()
    version = sess.get(FormVersion, sub.version_id)
    timeline = flow.timeline(sess, sub.id, lang)
    returned = next((x for x in reversed(timeline) if x["kind"] == "returned"), None)

    def title_of(key: str) -> str:
        return editor.words(((version.schema or {}).get("properties") or {}).get(key), lang) or key

    return render_template("admin/flow_submission.html", sub=sub, form=form, state=flow.state(sess, sub), task=task,
                           timeline=timeline, answers=answers(version, sub.data, lang), title_of=title_of,
                           returned=returned if sub.status == flow.RETURN else None,
                           followups=_followup_buttons(sub), children=_children(sub, lang),
                           error=request.args.get("error"), mine=sub.submitted_by == g.principal.account_id)


def answers(version: FormVersion, data: dict, lang: str) -> list[tuple[str, str]]:
    from admin.views_forms import _summary

    return _summary(version.schema or {}, version.ui_schema or {}, data or {}, lang)


def _followup_buttons(sub: Submission) -> list[dict]:
    """The app's follow-up forms the viewer may fill for this case ("填写返校报告"); none for a case that was
    rejected or withdrawn (W3's rule: such a case is not followed up)."""
    from foundation.lowcode.apps import may_fill

    if sub.parent_id is not None or sub.status in ("rejected", "withdrawn") \
            or not g.principal.can("lowcode.form.submit", sub.school_id):
        return []
    sess, out = db.session(), []
    for f in followups.of_app(sess, sub.form_id):
        version = latest(sess, f["id"])
        if may_fill(sess, g.principal, version.app or {}, sub.school_id):
            out.append(f)
    return out


def _children(sub: Submission, lang: str) -> list[dict]:
    """The follow-ups of this case, oldest first, each with its form's title and its answers in words."""
    sess = db.session()
    rows = sess.execute(sa.select(Submission, LowcodeForm.title, FormVersion).join(
        LowcodeForm, LowcodeForm.id == Submission.form_id).join(FormVersion, FormVersion.id == Submission.version_id)
        .where(Submission.parent_id == sub.id).order_by(Submission.id)).all()
    return [{"sub": child, "title": title, "answers": answers(version, child.data, lang)} for child, title, version in rows]


@bp.post("/flow/submissions/<int:submission_id>/return")
def flow_return(submission_id: int):
    """退回修改 from the submission's page: one task, its own note (required)."""
    try:
        task = int(request.form.get("task") or 0)
    except ValueError:
        abort(400)
    try:
        api.return_task(task, request.form.get("note"))
    except ValidationFailed as err:
        return redirect(url_for("admin.flow_submission", submission_id=submission_id,
                                error=next(iter(err.fields.values()))[0]) + "#decide")
    except (NotFound, Forbidden):
        abort(404)
    return redirect(url_for("admin.flow_approvals", done=1))


@bp.post("/flow/submissions/<int:submission_id>/withdraw")
def flow_withdraw(submission_id: int):
    try:
        flow.withdraw(db.session(), g.principal, submission_id)
    except NotFound:
        abort(404)
    except ValidationFailed:
        abort(400)
    return redirect(url_for("admin.flow_submission", submission_id=submission_id))


@bp.route("/delegations", methods=["GET", "POST"])
def flow_delegations():
    require(g.principal, "lowcode.approve")
    problems = {}
    if request.method == "POST":
        try:
            deputy = int(request.form.get("deputy") or 0)
        except ValueError:
            deputy = 0
        try:
            api.create_delegation(deputy, request.form.get("starts"), request.form.get("ends"))
            return redirect(url_for("admin.flow_delegations"))
        except ValidationFailed as err:
            problems = {k: v[0] for k, v in err.fields.items()}
        except Forbidden:
            abort(403)
    schools = g.principal.school_ids()
    staff = db.session().execute(
        sa.select(Account.id, Account.display_name).join(Membership, Membership.account_id == Account.id)
        .where(Membership.school_id.in_(schools), Account.person_kind == "staff", Account.active.is_(True),
               Account.id != g.principal.account_id).distinct().order_by(Account.display_name)).all() if schools else []
    return render_template("admin/flow_delegations.html", rows=api.delegations_of(g.principal.account_id), staff=staff,
                           problems=problems, today=date.today().isoformat(), form=request.form)


@bp.post("/delegations/<int:delegation_id>/cancel")
def flow_delegation_cancel(delegation_id: int):
    try:
        api.cancel_delegation(delegation_id)
    except NotFound:
        abort(404)
    return redirect(url_for("admin.flow_delegations"))

