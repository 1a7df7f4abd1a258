"""The plugin's JSON API under /points/api (gated per school by the host). Staff read scores and
rankings; families read only their own; every write is a new row (entries, reversals, appeals, rulebook
versions) and every read of a student's archive is audited."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from foundation.plugin_api import (
    NotFound,
    ValidationFailed,
    api_doc,
    audit,
    is_staff_for,
    json_body,
    me,
    narrow_to,
    require_family,
    school_for,
    session,
    student_or_404,
    text_field,
    utcnow,
    whole_school,
)
from plugins.points import appeals, standing
from plugins.points import caps as A
from plugins.points import rulebook as rb
from plugins.points.present import class_school, entry_view, family_kids, family_view, iso, rank_view, titles


@api_doc("The caller's own (children's) conduct score, entries and band", tags=["points"])
def me_scores():
    kids = family_kids()
    if not kids:
        raise NotFound("student")
    return jsonify({"items": [family_view(k) for k in kids]})


def get_rulebook():
    school = school_for(A.RANK, A.NAME)
    sess = session()
    book = rb.current(sess, school)
    if book is None:
        raise NotFound("rulebook")
    return jsonify({"school_id": school, "version": book["version"], "rulebook": book["body"],
                    "history": [{"version": h["version"], "note": h["note"], "by": h["created_by_name"],
                                 "at": iso(h["created_at"])} for h in rb.history(sess, school)]})


def get_rulebook_version(version: int):
    school = school_for(A.RANK, A.NAME)
    book = rb.version(session(), school, version) if 0 < version < 2**31 else None
    if book is None:
        raise NotFound("rulebook")
    return jsonify({"school_id": school, "version": book["version"], "rulebook": book["body"]})


@api_doc("Save a new version of the school's rulebook (checked whole first; every version is kept)",
         tags=["points"], status=201, body={"type": "object", "required": ["rulebook"], "properties": {
             "rulebook": {"type": "object", "description": "dimensions, items, bands, caps, term (docs/points.md)"},
             "note": {"type": "string", "maxLength": 500}}})
def save_rulebook():
    school = school_for(A.RULEBOOK, A.NAME)
    data = json_body()
    proposed = data.get("rulebook")
    problems = rb.check(proposed)
    if problems:
        raise ValidationFailed({f"rulebook.{k}": v for k, v in problems.items()})
    note = text_field(data, "note", required=False, limit=200)
    p, sess = me(), session()
    old = rb.current(sess, school)
    row = rb.save(sess, school, proposed, account_id=p.account_id, name=p.display_name, note=note)
    new_body = row["body"]
    if old is None or (old["body"]["term"]["start"], old["body"]["starting_score"]) != (
            new_body["term"]["start"], new_body["starting_score"]):
        standing.rebuild(sess, school, rb.term_start(new_body), new_body["starting_score"])
    audit("points.rulebook.save", "points_rulebook", row["version"], school_id=school, detail={"note": note})
    return jsonify({"school_id": school, "version": row["version"], "rulebook": new_body}), 201


def rankings():
    level = request.args.get("level", "school")
    if level not in ("class", "grade", "school"):
        raise ValidationFailed({"level": ["points.level"]})
    unit = request.args.get("unit_id", type=int)
    if level == "class":
        if unit is None:
            raise ValidationFailed({"unit_id": ["field.required"]})
        school = class_school(unit)
    else:
        school = school_for(A.RANK, A.NAME)
        if not whole_school(school):
            raise NotFound("ranking")  # class-reach staff rank within their classes only
    rows = standing.ranking(session(), [school], level, unit)
    return jsonify({"level": level, "unit_id": unit, "school_id": school, "items": [rank_view(r) for r in rows]})


def class_board(class_id: int):
    school = class_school(class_id)
    sess = session()
    rows = standing.ranking(sess, [school], "class", class_id)
    ids = [r["student_id"] for r in rows]
    change = standing.recent_change(sess, ids)
    series = standing.weekly_series(sess, school, ids)
    items = [rank_view(r) | {"grade_rank": r["grade_rank"], "week_change": change.get(r["student_id"], 0),
                              "trend": series.get(r["student_id"], [])} for r in rows]
    scores = [r["score"] for r in rows]
    return jsonify({"class_id": class_id, "school_id": school, "items": items, "at": iso(utcnow()),
                    "average": round(sum(scores) / len(scores), 1) if scores else None})


def archive(student_id: int):
    kid = student_or_404(student_id, A.NAME)
    narrow_to(kid.school_id)
    p, sess = me(), session()
    if not is_staff_for(p, kid, A.RANK):
        require_family(kid, A.OWN)
        return jsonify(family_view(kid))
    school = kid.school_id
    book = rb.current(sess, school)
    term = rb.term_start(book["body"]) if book else None
    where = standing.position(sess, school, kid)
    audit("points.archive.read", "student", student_id, school_id=school)
    return jsonify({"student_id": student_id, "name": kid.name, "student_no": kid.student_no,
                    "class_id": kid.class_id, "score": where["score"], "class_rank": where["class_rank"],
                    "school_rank": where["school_rank"], "band": where["band"],
                    "dimensions": standing.dimension_summary(sess, school, student_id, term) if term else {},
                    "trend": standing.weekly_series(sess, school, [student_id], weeks=12).get(student_id, []),
                    "entries": [entry_view(e, titles(school)) for e in standing.student_entries(sess, student_id)]})


def register(bp: Blueprint) -> None:
    r = bp.add_url_rule
    r("/api/me", "api_me", me_scores)
    r("/api/rulebook", "api_rulebook", get_rulebook)
    r("/api/rulebook", "api_rulebook_save", save_rulebook, methods=["POST"])
    r("/api/rulebook/<int:version>", "api_rulebook_version", get_rulebook_version)
    r("/api/rankings", "api_rankings", rankings)
    r("/api/classes/<int:class_id>/board", "api_class_board", class_board)
    r("/api/students/<int:student_id>", "api_archive", archive)
    from plugins.points import api_entries

    api_entries.register(bp)
    appeals.register(bp)
