"""预警 pages: the teacher's inbox (most urgent first, with the time left), the case page (timeline, deadlines
and the forms to record each step), and the school's overview (figures with charts, deadlines, escalation
chain, school calendar). Plain forms posting back to the page: they work without JavaScript."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for

from admin.blueprint import bp
from foundation import db
from foundation.alerts import access, actions
from foundation.alerts.calendar import check_settings, load_clock
from foundation.alerts.figures import figures
from foundation.alerts.rules import assignable
from foundation.api.search import student_picker
from foundation.audit import record
from foundation.i18n import current_lang, t
from foundation.models import AlertCase, AlertSettings, SchoolCalendarDay, Student
from foundation.permissions import ROLES, require


def time_left(seconds: int | None) -> tuple[str, str]:
    """("剩余 42 分钟", "ok") / ("已超时 2 小时", "late"): the time left in words and its state."""
    if seconds is None:
        return t("alerts.page.no_deadline"), "none"
    late, s = seconds < 0, abs(seconds)
    if s >= 86400:
        amount = t("alerts.page.days", n=s // 86400) + (t("alerts.page.hours", n=s % 86400 // 3600) if s % 86400 >= 3600 else "")
    elif s >= 3600:
        amount = t("alerts.page.hours", n=s // 3600) + (t("alerts.page.minutes", n=s % 3600 // 60) if s % 3600 >= 60 else "")
    else:
        amount = t("alerts.page.minutes", n=max(1, s // 60))
    if late:
        return t("alerts.page.overdue", amount=amount), "late"
    return t("alerts.page.left", amount=amount), "soon" if seconds < 3600 else "ok"


def _school(cap: str) -> int:
    schools = sorted(s for s in g.principal.school_ids() if g.principal.can(cap, s))
    if not schools:
        abort(403)
    return schools[0]


@bp.post("/alerts")
def alerts_raise():
    """A teacher's own concern about a student they reach (the built-in rule ``core.manual``)."""
    from foundation.alerts.engine import trigger

    p = g.principal
    sid = request.form.get("student_id", type=int)
    if sid is None:
        return redirect(url_for("admin.alerts_inbox", error="alerts.raise.pick_student"))
    student = db.session().scalar(sa.select(Student).where(Student.id == sid))
    if student is None:
        abort(404)
    require(p, "alerts.case.act", student.school_id)
    note = (request.form.get("note") or "").strip()[:4000]
    level = request.form.get("level") if request.form.get("level") in ("red", "yellow") else "yellow"
    if not note:
        return redirect(url_for("admin.alerts_inbox", error="alerts.action.note_required"))
    case = trigger(db.session(), "core.manual", student_id=student.id, school_id=student.school_id, level=level,
                   detail={"note": note}, source=f"account:{p.account_id}")
    actions.act(db.session(), case, "note", account_id=p.account_id, actor=p.display_name, note=note)
    record("alerts.case.raise", "alert_case", case.id, school_id=case.school_id, detail={"rule": "core.manual"})
    flash(t("alerts.raise.done", name=student.name), "ok")
    return redirect(url_for("admin.alerts_case", case_id=case.id))


@bp.get("/alerts")
def alerts_inbox():
    p = g.principal
    require(p, "alerts.case.read")
    view = request.args.get("view", "mine")
    overview = any(p.can("alerts.overview", s) for s in p.school_ids())
    stmt = sa.select(AlertCase).where(access.visible_where(p))
    if view == "mine" or (view == "school" and not overview):
        view = "mine"
        stmt = stmt.where(AlertCase.id.in_(access.assigned_ids(p)), AlertCase.parent_case_id.is_(None))
    stmt = stmt.where(AlertCase.closed_at.is_not(None) if view == "closed" else AlertCase.closed_at.is_(None))
    order = (AlertCase.closed_at.desc(),) if view == "closed" else access.urgency_order()
    rows = list(db.session().scalars(stmt.order_by(*order).limit(200)))
    sensitive = [c.id for c in rows if c.sensitive]
    if sensitive:
        record("alerts.case.list", "alert_case", ",".join(map(str, sensitive))[:200],
               school_id=rows[0].school_id, detail={"cases": sensitive})
    items = access.summaries(db.session(), rows, current_lang())
    for item in items:
        item["left"], item["state"] = time_left(item["seconds_left"])
    # 关注一名学生: a searchable picker over the students the teacher reaches, not a dropdown of the school
    picker = student_picker() if any(p.can("alerts.case.act", s) for s in p.school_ids()) else None
    return render_template("admin/alerts.html", items=items, view=view, overview=overview, picker=picker,
                           error=request.args.get("error") if request.args.get("error", "").startswith("alerts.")
                           else None)


def _case(case_id: int) -> AlertCase:
    if g.principal is not None and not g.principal.can("alerts.case.read"):
        abort(404)  # like the API: a case is not there for whoever may see no case at all
    require(g.principal, "alerts.case.read")
    case = access.load_case(db.session(), g.principal, case_id)
    if case is None:
        abort(404)
    return case


@bp.route("/alerts/<int:case_id>", methods=["GET", "POST"])
def alerts_case(case_id: int):
    p = g.principal
    case = _case(case_id)
    error = None
    if request.method == "POST":
        require(p, "alerts.case.act", case.school_id)
        f = request.form
        days = f.get("evaluation_days", type=int)
        recovered = {"yes": True, "no": False}.get(f.get("recovered", ""))
        try:
            kind = f.get("kind", "")
            event = actions.act(db.session(), case, kind, account_id=p.account_id, actor=p.display_name,
                                note=(f.get("note") or "")[:4000] or None, method=f.get("method") or None,
                                evaluation_days=days if days and 1 <= days <= 366 else None,
                                recovered=recovered, outcome=f.get("outcome") or None)
            record(f"alerts.case.{kind}", "alert_case", case.id, school_id=case.school_id,
                   detail={"event_id": event.id})
            return redirect(url_for("admin.alerts_case", case_id=case.id, done=kind))
        except actions.ActionError as err:
            error = err.key
    out = access.detail(db.session(), case, p, current_lang())
    if case.sensitive:
        record("alerts.case.read", "alert_case", case.id, school_id=case.school_id,
               detail={"notes_visible": out["notes_visible"]})
    out["left"], out["state"] = time_left(out["seconds_left"])
    return render_template("admin/alerts_case.html", c=out, error=error, methods=actions.METHODS,
                           outcomes=actions.OUTCOMES, can_act=p.can("alerts.case.act", case.school_id),
                           roles={r: getattr(ROLES[r], current_lang()) for r in ROLES},
                           done=request.args.get("done")), (422 if error else 200)


@bp.route("/alerts/overview", methods=["GET", "POST"])
def alerts_overview():
    p = g.principal
    school = _school("alerts.overview")
    sess = db.session()
    error = None
    if request.method == "POST":
        school = _school("alerts.configure")
        error = _configure(sess, school, request.form)
        if error is None:
            return redirect(url_for("admin.alerts_overview"))
    lang = current_lang()
    by = {g_: figures(sess, [school], g_, None, lang) for g_ in ("school", "rule", "teacher")}
    clock = load_clock(sess, school)
    days = sess.scalars(sa.select(SchoolCalendarDay).where(SchoolCalendarDay.school_id == school,
                                                           SchoolCalendarDay.day >= date.today().replace(month=1, day=1))
                        .order_by(SchoolCalendarDay.day)).all()
    return render_template("admin/alerts_overview.html", total=(by["school"] or [None])[0], rules=by["rule"],
                           teachers=by["teacher"][:15], clock=clock, days=days, error=error,
                           roles={r: getattr(ROLES[r], lang) for r in assignable()},
                           can_configure=p.can("alerts.configure", school)), (422 if error else 200)


def _configure(sess, school: int, f) -> str | None:
    """One of the overview's forms: deadlines and chain, or a calendar day set or cleared."""
    what = f.get("form")
    if what == "settings":
        ints = {}
        for lvl, key in (("red", "contact_hours"), ("red", "plan_hours"), ("yellow", "follow_school_days")):
            value = f.get(f"{lvl}.{key}", type=int)
            ints.setdefault(lvl, {})[key] = value if value is not None else -1
        chain = [r for r in f.getlist("chain") if r]
        row = sess.scalar(sa.select(AlertSettings).where(AlertSettings.school_id == school))
        clean, errors = check_settings({"deadlines": ints, "chain": chain,
                                        "weekdays": [int(d) for d in f.getlist("weekdays") if d.isdigit()]},
                                       row.deadlines if row is not None else None)
        if errors:
            return next(iter(errors.values()))[0]
        if row is None:
            row = AlertSettings(school_id=school, timezone="Asia/Shanghai")
            sess.add(row)
        row.deadlines, row.chain, row.weekdays = clean["deadlines"], clean["chain"], clean["weekdays"]
        row.updated_by = g.principal.account_id
        record("alerts.settings.update", "alert_settings", school, school_id=school, detail=clean)
        return None
    try:
        day = date.fromisoformat(f.get("day", ""))
    except ValueError:
        return "alerts.date"
    row = sess.scalar(sa.select(SchoolCalendarDay).where(SchoolCalendarDay.school_id == school,
                                                         SchoolCalendarDay.day == day))
    if what == "clear_day":
        if row is not None:
            sess.delete(row)
        record("alerts.calendar.clear", "alert_calendar", day.isoformat(), school_id=school)
        return None
    kind = f.get("kind")
    if kind not in ("holiday", "workday") or not 2000 <= day.year <= 2100:
        return "alerts.date"
    if row is None:
        row = SchoolCalendarDay(school_id=school, day=day)
        sess.add(row)
    row.kind, row.name = kind, (f.get("name") or "")[:60] or None
    record("alerts.calendar.set", "alert_calendar", day.isoformat(), school_id=school, detail={"kind": kind})
    return None
