"""What the plugin's API and pages show, written once: entries, ranked rows, a family's view, and the
schools and students a request concerns (through the platform's reach)."""
from __future__ import annotations

from datetime import datetime

from foundation.plugin_api import acting_in, class_or_404, family_students, me, require, session
from plugins.points import caps as A
from plugins.points import rulebook as rb
from plugins.points import standing
from plugins.points.alerting import settings


def iso(value):
    return value.isoformat() + ("Z" if isinstance(value, datetime) else "") if value is not None else None


def titles(school_id: int) -> dict[str, dict]:
    """Rule code → its zh/en title in the rulebook in force (entries store the code)."""
    book = rb.current(session(), school_id)
    return {i["code"]: i["title"] for i in book["body"]["items"]} if book else {}


def entry_view(e: dict, names: dict | None = None) -> dict:
    return {"id": e["id"], "student_id": e["student_id"], "rule_code": e["rule_code"],
            "rule_title": (names or {}).get(e["rule_code"]), "dimension": e["dimension"],
            "points": e["points"], "raw_points": e["raw_points"], "reason": e["reason"], "evidence": e["evidence"],
            "source": e["source"], "recorded_by": e["recorded_by_name"], "rulebook_version": e["rulebook_version"],
            "occurred_at": iso(e["occurred_at"]), "created_at": iso(e["created_at"]), "reverses_id": e["reverses_id"],
            "reversed_by": e.get("reversed_by"), "appeal": e.get("appeal")}


def family_view(kid) -> dict:
    """What a student or parent may see: own score, entries, a band — no rank, no other student."""
    sess, school = session(), kid.school_id
    with acting_in(school):  # a family may have children in two schools: this one's rulebook and ledger
        book = rb.current(sess, school)
        out = {"student_id": kid.id, "name": kid.name, "score": standing.score_of(sess, school, kid.id),
               "term": book["body"]["term"] if book else None,
               "entries": [entry_view(e, titles(school)) for e in standing.student_entries(sess, kid.id)]}
        if settings(school).get("show_band", True):
            out["band"] = standing.band(sess, school, kid.id)
    return out


def family_kids() -> list:
    """The caller's own record (a student) or children (a parent) where the plugin is enabled and they may
    see the score."""
    p = me()
    return [kid for kid in family_students(A.NAME) if p.can(A.OWN, kid.school_id)]


def class_school(class_id: int) -> int:
    """The school of a class the caller reaches as staff holding the ranking capability (else 404 / 403)."""
    klass = class_or_404(class_id, A.NAME)
    require(me(), A.RANK, klass.school_id)
    return klass.school_id


def rank_view(r: dict) -> dict:
    return {k: r[k] for k in ("student_id", "name", "student_no", "class_id", "class_name", "score", "rank")}
