"""The plugin's JSON API under /afterschool/api (gated per school by the host). Staff read the catalogue; the
school admin keeps it and runs windows and lotteries; families choose, drop, rate; a course's teacher takes
its roll; whoever holds the audit right re-runs a recorded lottery. Bad input is a 422 naming the field."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from foundation.plugin_api import (
    APIError,
    Forbidden,
    NotFound,
    ValidationFailed,
    api_doc,
    audit,
    is_family,
    json_body,
    me,
    narrow_to,
    publish,
    require_family,
    school_for,
    session,
    student_or_404,
    utcnow,
    whole_school,
)
from plugins.afterschool import caps as A
from plugins.afterschool import catalog, lottery, selection, sessions
from plugins.afterschool.models import Choice, Course, Lottery, Venue, Window
from plugins.afterschool.present import courses_view, family_view, iso, window_view

INT_MAX = 2**31 - 1
TAG = ["afterschool"]


def _row(model, row_id: int, what: str):
    row = session().get(model, row_id) if 0 < row_id <= INT_MAX else None  # the session sees the caller's schools
    if row is None:
        raise NotFound(what)
    narrow_to(row.school_id)
    return row


def _kid(data: dict, cap: str):
    sid = data.get("student_id")
    if isinstance(sid, bool) or not isinstance(sid, int):
        raise ValidationFailed({"student_id": ["field.required"]})
    kid = student_or_404(sid, A.NAME)
    narrow_to(kid.school_id)
    require_family(kid, cap)
    return kid


# ---- the catalogue ------------------------------------------------------------------------------------
@api_doc("The school's after-school courses of a term (?term=)", tags=TAG)
def list_courses():
    school = school_for(A.READ, A.NAME)
    sess = session()
    rows = catalog.term_courses(sess, request.args.get("term") or None)
    return jsonify({"school_id": school, "periods": catalog.periods(school), "items": courses_view(sess, school, rows)})


COURSE_BODY = {"type": "object", "required": ["title", "category", "venue_id", "capacity", "slots", "grades"],
               "properties": {"title": {"type": "string"}, "category": {"type": "string", "enum": list(catalog.CATEGORIES)},
                              "venue_id": {"type": "integer"}, "capacity": {"type": "integer"},
                              "slots": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                              "grades": {"type": "array", "items": {"type": "integer"}},
                              "teacher_staff_id": {"type": "integer"}, "teacher_name": {"type": "string"},
                              "provider": {"type": "string"}, "fee": {"type": "integer"}, "picture": {"type": "string"},
                              "description": {"type": "string"}, "term": {"type": "string"}}}


@api_doc("Add a course (refused with the field and why: a venue or teacher busy then, over the venue's capacity)",
         tags=TAG, status=201, body=COURSE_BODY)
def create_course():
    school = school_for(A.MANAGE, A.NAME)
    sess = session()
    row = catalog.save_course(sess, school, json_body())
    audit("afterschool.course.create", "afterschool_course", row.id, school_id=school, detail={"title": row.title})
    return jsonify(courses_view(sess, school, [row])[0]), 201


@api_doc("Change a course", tags=TAG, body=COURSE_BODY)
def update_course(course_id: int):
    row = _row(Course, course_id, "course")
    school = school_for(A.MANAGE, A.NAME)
    sess = session()
    catalog.save_course(sess, school, json_body(), existing=row)
    audit("afterschool.course.update", "afterschool_course", row.id, school_id=school, detail={"title": row.title})
    return jsonify(courses_view(sess, school, [row])[0])


@api_doc("The school's venues", tags=TAG)
def list_venues():
    school = school_for(A.READ, A.NAME)
    rows = session().scalars(sa.select(Venue).order_by(Venue.id)).all()
    return jsonify({"school_id": school, "items": [{"id": v.id, "name": v.name, "capacity": v.capacity} for v in rows]})


@api_doc("Add a venue", tags=TAG, status=201, body={"type": "object", "required": ["name", "capacity"], "properties": {
    "name": {"type": "string"}, "capacity": {"type": "integer"}}})
def create_venue():
    school = school_for(A.MANAGE, A.NAME)
    sess = session()
    v = Venue(school_id=school, **catalog.check_venue(json_body()))
    sess.add(v)
    sess.flush()
    audit("afterschool.venue.create", "afterschool_venue", v.id, school_id=school, detail={"name": v.name})
    return jsonify({"id": v.id, "name": v.name, "capacity": v.capacity}), 201


# ---- windows and the lottery --------------------------------------------------------------------------
@api_doc("The school's selection windows", tags=TAG)
def list_windows():
    school = school_for(A.READ, A.NAME)
    rows = session().scalars(sa.select(Window).order_by(Window.opens_at.desc(), Window.id.desc())).all()
    return jsonify({"school_id": school, "items": [window_view(w) for w in rows]})


@api_doc("Open a selection window for some grades (first come first served, or a lottery at the deadline)",
         tags=TAG, status=201, body={"type": "object", "required": ["title", "opens_at", "closes_at", "mode", "grades"],
                                     "properties": {"title": {"type": "string"}, "opens_at": {"type": "string"},
                                                    "closes_at": {"type": "string"},
                                                    "mode": {"type": "string", "enum": ["fcfs", "lottery"]},
                                                    "grades": {"type": "array", "items": {"type": "integer"}},
                                                    "max_courses": {"type": "integer"},
                                                    "students_choose": {"type": "boolean"},
                                                    "course_ids": {"type": "array", "items": {"type": "integer"}},
                                                    "priority": {"type": "array", "items": {"type": "object"}}}})
def create_window():
    school = school_for(A.MANAGE, A.NAME)
    sess = session()
    w = Window(school_id=school, status="open", created_at=utcnow(), **selection.check_window(sess, json_body()))
    sess.add(w)
    sess.flush()
    audit("afterschool.window.create", "afterschool_window", w.id, school_id=school,
          detail={"mode": w.mode, "grades": w.grades})
    return jsonify(window_view(w)), 201


@api_doc("A window with each course's applicants, places and waiting list (staff)", tags=TAG)
def window_detail(window_id: int):
    w = _row(Window, window_id, "window")
    school_for(A.READ, A.NAME)
    sess = session()
    counts = sess.execute(sa.select(Choice.course_id, Choice.status, sa.func.count()).where(Choice.window_id == w.id)
                          .group_by(Choice.course_id, Choice.status)).all()
    per: dict[int, dict[str, int]] = {}
    for cid, status, n in counts:
        per.setdefault(cid, {})[status] = n
    lots = sess.scalars(sa.select(Lottery).where(Lottery.window_id == w.id).order_by(Lottery.id)).all()
    offered = set(w.course_ids or [])
    rows = courses_view(sess, w.school_id, [c for c in catalog.term_courses(sess, w.term)
                                            if not offered or c.id in offered])
    return jsonify(window_view(w) | {"courses": [c | {"choices": per.get(c["id"], {})} for c in rows],
                                     "lotteries": [{"id": x.id, "seed": x.seed, "ran_at": iso(x.ran_at),
                                                    "outcome_hash": x.outcome_hash} for x in lots]})


@api_doc("Draw the window's lottery at or after its deadline (``close_now`` ends selection first); an optional "
         "public seed", tags=TAG, status=201, body={"type": "object", "properties": {
             "seed": {"type": "string", "maxLength": 40}, "close_now": {"type": "boolean"}}})
def draw(window_id: int):
    w = _row(Window, window_id, "window")
    school = school_for(A.MANAGE, A.NAME)
    data = json_body()
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, str) or not 1 <= len(seed) <= 40 or not seed.isprintable()):
        raise ValidationFailed({"seed": ["afterschool.err.seed"]})
    if w.mode != "lottery" or w.status != "open":
        raise ValidationFailed({"window_id": ["afterschool.err.not_drawable"]})
    if data.get("close_now") is True and utcnow() < w.closes_at:
        w.closes_at = utcnow()  # the school ends selection now (audited below) and draws at once
    if utcnow() < w.closes_at:
        raise ValidationFailed({"window_id": ["afterschool.err.before_deadline"]})
    lot = lottery.run(session(), w, me().display_name, seed)
    audit("afterschool.lottery.run", "afterschool_lottery", lot.id, school_id=school,
          detail={"window": w.id, "seed": lot.seed, "outcome_hash": lot.outcome_hash, "closed_now": data.get("close_now") is True})
    return jsonify({"id": lot.id, "seed": lot.seed, "outcome_hash": lot.outcome_hash,
                    "applicants": len(lot.inputs["applicants"])}), 201


@api_doc("A recorded lottery: seed, inputs (priority as a tier only, never its reason), steps", tags=TAG)
def lottery_record(lottery_id: int):
    lot = _row(Lottery, lottery_id, "lottery")
    school = school_for(A.AUDIT, A.NAME)
    audit("afterschool.lottery.read", "afterschool_lottery", lot.id, school_id=school)
    return jsonify({"id": lot.id, "window_id": lot.window_id, "seed": lot.seed, "ran_by": lot.ran_by,
                    "ran_at": iso(lot.ran_at), "outcome_hash": lot.outcome_hash, "inputs": lot.inputs,
                    "steps": lot.steps})


@api_doc("Re-run a recorded lottery from its seed and inputs and compare with what was recorded", tags=TAG)
def lottery_rerun(lottery_id: int):
    lot = _row(Lottery, lottery_id, "lottery")
    school = school_for(A.AUDIT, A.NAME)
    out = lottery.verify(lot)
    audit("afterschool.lottery.rerun", "afterschool_lottery", lot.id, school_id=school, detail={"same": out["same"]})
    return jsonify(out)


# ---- families --------------------------------------------------------------------------------------------
@api_doc("The caller's children (or own record): windows, offered courses with seats left, choices", tags=TAG)
def me_view():
    items = family_view(session())
    if not items:
        raise NotFound("student")
    return jsonify({"items": items})


@api_doc("Choose courses for a child in a window, in order of preference", tags=TAG, body={
    "type": "object", "required": ["student_id", "courses"], "properties": {
        "student_id": {"type": "integer"}, "courses": {"type": "array", "items": {"type": "integer"}}}})
def choose(window_id: int):
    data = json_body()
    kid = _kid(data, A.CHOOSE)
    w = _row(Window, window_id, "window")
    p = me()
    if p.person_kind == "student" and not w.students_choose:
        raise Forbidden(A.CHOOSE)
    sess = session()
    out = selection.choose(sess, w, kid, data.get("courses"), p.account_id)
    audit("afterschool.choice.create", "student", kid.id, school_id=kid.school_id,
          detail={"window": w.id, "outcomes": [[o["course_id"], o["outcome"]] for o in out]})
    return jsonify({"window_id": w.id, "student_id": kid.id, "items": out})


@api_doc("Withdraw a choice (a freed place goes to the waiting list at once)", tags=TAG)
def drop(choice_id: int):
    row = _row(Choice, choice_id, "choice")
    kid = student_or_404(row.student_id, A.NAME)
    p = me()
    if not (p.can(A.MANAGE, kid.school_id) or (is_family(p, kid) and p.can(A.CHOOSE, kid.school_id))):
        raise Forbidden(A.CHOOSE)
    moved = selection.drop(session(), row)
    audit("afterschool.choice.drop", "student", kid.id, school_id=kid.school_id,
          detail={"course": row.course_id, "moved_up": moved})
    return jsonify({"dropped": choice_id, "moved_up": moved})


@api_doc("Rate a course after sessions: 1–5 stars and a comment", tags=TAG, status=201, body={
    "type": "object", "required": ["student_id", "stars"], "properties": {
        "student_id": {"type": "integer"}, "stars": {"type": "integer"}, "comment": {"type": "string"}}})
def rate(course_id: int):
    data = json_body()
    kid = _kid(data, A.RATE)
    course = _row(Course, course_id, "course")
    kind = "student" if me().person_kind == "student" else "parent"
    row = sessions.rate(session(), course, kid.id, kind, data)
    audit("afterschool.rating.create", "afterschool_course", course.id, school_id=course.school_id,
          detail={"stars": row.stars})
    return jsonify({"id": row.id, "stars": row.stars, "comment": row.comment}), 201


@api_doc("A course's ratings (staff of the school; no names)", tags=TAG)
def ratings(course_id: int):
    from plugins.afterschool.models import Rating

    course = _row(Course, course_id, "course")
    school_for(A.READ, A.NAME)
    rows = session().scalars(sa.select(Rating).where(Rating.course_id == course.id).order_by(Rating.created_at.desc()))
    items = [{"stars": r.stars, "comment": r.comment, "by": r.rater_kind, "at": iso(r.created_at)} for r in rows]
    avg = round(sum(i["stars"] for i in items) / len(items), 2) if items else None
    return jsonify({"course_id": course.id, "average": avg, "items": items})


# ---- the roll -------------------------------------------------------------------------------------------------
def _teacher_course(course_id: int) -> Course:
    course = _row(Course, course_id, "course")
    p = me()
    own = p.person_kind == "staff" and course.teacher_staff_id == p.person_id and p.can(A.ATTEND, course.school_id)
    if not (own or p.can(A.MANAGE, course.school_id) or (whole_school(course.school_id, p)
                                                           and p.can(A.ATTEND, course.school_id))):
        raise Forbidden(A.ATTEND)
    return course


def _day(value) -> date:
    try:
        return date.fromisoformat(value) if value else utcnow().date()
    except (TypeError, ValueError):
        raise ValidationFailed({"day": ["afterschool.err.day"]}) from None


def roll_of(course: Course, day: date) -> dict:
    """The whole roll, read by the plugin's subscriber for the course's school (sessions.py says why)."""
    payload = {"school_id": course.school_id, "course_id": course.id, "day": day.isoformat()}
    publish(sessions.READ, [payload])
    if "sheet" not in payload:
        raise NotFound("course")
    return payload["sheet"]


@api_doc("A course's roll for a day (?day=YYYY-MM-DD): enrolled children, leave, marks", tags=TAG)
def get_roll(course_id: int):
    course = _teacher_course(course_id)
    sheet = roll_of(course, _day(request.args.get("day")))
    audit("afterschool.roll.read", "afterschool_course", course.id, school_id=course.school_id,
          detail={"day": sheet["day"], "children": len(sheet["items"])})
    return jsonify(sheet)


@api_doc("Save the roll; parents of a child absent without leave are told at once", tags=TAG, body={
    "type": "object", "required": ["marks"], "properties": {"day": {"type": "string", "format": "date"},
                                                          "marks": {"type": "object"}}})
def save_roll(course_id: int):
    course = _teacher_course(course_id)
    data = json_body()
    day = _day(data.get("day"))
    clean = sessions.check_marks(data.get("marks"), {k["id"] for k in roll_of(course, day)["items"]})
    payload = {"school_id": course.school_id, "course_id": course.id, "day": day.isoformat(), "marks": clean,
               "by": me().account_id}
    publish(sessions.SAVED, [payload])
    out = payload.get("result")
    if out is None:
        raise APIError("attendance_not_saved", 503)
    audit("afterschool.attendance.take", "afterschool_course", course.id, school_id=course.school_id,
          detail={"day": payload["day"], "saved": out["saved"], "told": out["told"]})
    return jsonify(out)


def register(bp: Blueprint) -> None:
    r = bp.add_url_rule
    r("/api/courses", "api_courses", list_courses)
    r("/api/courses", "api_course_create", create_course, methods=["POST"])
    r("/api/courses/<int:course_id>", "api_course_update", update_course, methods=["PUT"])
    r("/api/venues", "api_venues", list_venues)
    r("/api/venues", "api_venue_create", create_venue, methods=["POST"])
    r("/api/windows", "api_windows", list_windows)
    r("/api/windows", "api_window_create", create_window, methods=["POST"])
    r("/api/windows/<int:window_id>", "api_window", window_detail)
    r("/api/windows/<int:window_id>/lottery", "api_draw", draw, methods=["POST"])
    r("/api/windows/<int:window_id>/choices", "api_choose", choose, methods=["POST"])
    r("/api/lotteries/<int:lottery_id>", "api_lottery", lottery_record)
    r("/api/lotteries/<int:lottery_id>/rerun", "api_lottery_rerun", lottery_rerun)
    r("/api/choices/<int:choice_id>", "api_drop", drop, methods=["DELETE"])
    r("/api/me", "api_me", me_view)
    r("/api/courses/<int:course_id>/ratings", "api_rate", rate, methods=["POST"])
    r("/api/courses/<int:course_id>/ratings", "api_ratings", ratings)
    r("/api/courses/<int:course_id>/roll", "api_roll", get_roll)
    r("/api/courses/<int:course_id>/roll", "api_roll_save", save_roll, methods=["POST"])
