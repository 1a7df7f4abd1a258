"""What the pages and the API show, written once: a student's learning map (radar per subject by group of
knowledge points, weak points, the term's trend, pushes and plans) and a class's heat map (students ×
knowledge points) with its weakest points. A family's view of the map is the same student's map: it names
no classmate and compares with nobody."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import Student
from plugins.learning import catalogue
from plugins.learning.mastery import settings
from plugins.learning.models import Certificate, History, Interaction, Mastery, Plan, Push, Resource
from plugins.learning.push import weak


def iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _name(p, lang: str) -> str:
    return (p.name_en or p.name) if lang == "en" and p is not None else (p.name if p is not None else "")


def student_map(sess: so.Session, student_id: int, school_id: int, lang: str) -> dict[str, Any]:
    cfg = settings(school_id)
    top = catalogue.groups(sess)
    by_code = {p.code: p for p in catalogue.points(sess)}
    rows = list(sess.scalars(sa.select(Mastery).where(Mastery.student_id == student_id)))
    subjects: dict[str, dict[str, Any]] = {}
    weak_points = []
    for m in rows:
        g = top.get(m.code)
        if g is None:
            continue
        s = subjects.setdefault(g.subject, {"subject": g.subject, "axes": {}})
        axis = s["axes"].setdefault(g.code, {"code": g.code, "name": _name(g, lang), "values": []})
        axis["values"].append(m.p)
        if weak(m.p, m.attempts, cfg):
            weak_points.append({"code": m.code, "name": _name(by_code.get(m.code), lang), "subject": g.subject,
                                "mastery": round(m.p, 3), "attempts": m.attempts, "correct": m.correct})
    for s in subjects.values():
        s["axes"] = [{"code": a["code"], "name": a["name"], "mastery": round(sum(a["values"]) / len(a["values"]), 3),
                      "points": len(a["values"])} for a in sorted(s["axes"].values(), key=lambda a: a["code"])]
    # the term's trend per subject: each week, the mean over the subject's points of the latest mastery known
    # by then (a point not practised that week keeps its last value)
    series: dict[str, dict[str, dict]] = {}
    for week, code, p in sess.execute(sa.select(History.week, History.code, History.p).where(
            History.student_id == student_id).order_by(History.week)):
        g = top.get(code)
        if g is not None:
            series.setdefault(g.subject, {}).setdefault(week.isoformat(), {})[code] = p
    trend: dict[str, dict[str, list]] = {}
    for subject, weeks in series.items():
        last: dict[str, float] = {}
        for week in sorted(weeks):
            last.update(weeks[week])
            trend.setdefault(subject, {})[week] = list(last.values())
    pushes = sess.execute(sa.select(Push, Resource.title, Resource.url).join(Resource, Resource.id == Push.resource_id)
                          .where(Push.student_id == student_id).order_by(Push.pushed_at.desc()).limit(20)).all()
    now = {m.code: m.p for m in rows}
    plans = sess.scalars(sa.select(Plan).where(Plan.student_id == student_id).order_by(Plan.created_at.desc()))
    return {
        "student_id": student_id, "threshold": cfg["weak_threshold"], "min_attempts": cfg["min_attempts"],
        "subjects": sorted(subjects.values(), key=lambda s: s["subject"]),
        "weak": sorted(weak_points, key=lambda w: w["mastery"]),
        "trend": {s: [{"week": w, "mastery": round(sum(v) / len(v), 3)} for w, v in weeks.items()]
                  for s, weeks in trend.items()},
        "pushes": [{"id": p.id, "code": p.code, "point": _name(by_code.get(p.code), lang), "title": title,
                    "pushed_at": iso(p.pushed_at), "opened_at": iso(p.opened_at), "mastery_then": round(p.p_at_push, 3),
                    "mastery_now": round(now.get(p.code, p.p_at_push), 3)} for p, title, _url in pushes],
        "plans": [{"id": p.id, "code": p.code, "text": p.text, "by": p.created_by_name, "at": iso(p.created_at)}
                  for p in plans],
        "responses": sum(m.attempts for m in rows),
        **activity(sess, student_id),
    }


def activity(sess: so.Session, student_id: int) -> dict[str, Any]:
    """Classroom interactions this term per subject and kind (and the last eight weeks' totals), and where the
    student stands on each skill certificate."""
    per: dict[str, dict[str, Any]] = {}
    for subject, week, kind, n in sess.execute(sa.select(Interaction.subject, Interaction.week, Interaction.kind,
                                                         Interaction.count).where(
            Interaction.student_id == student_id).order_by(Interaction.week)):
        s = per.setdefault(subject, {"subject": subject, "total": 0, "kinds": {}, "weeks": {}})
        s["total"] += n
        s["kinds"][kind] = s["kinds"].get(kind, 0) + n
        s["weeks"][week.isoformat()] = s["weeks"].get(week.isoformat(), 0) + n
    for s in per.values():
        s["weeks"] = [{"week": w, "count": n} for w, n in sorted(s["weeks"].items())[-8:]]
    certs = sess.scalars(sa.select(Certificate).where(Certificate.student_id == student_id)
                        .order_by(Certificate.certificate))
    return {"interactions": sorted(per.values(), key=lambda s: s["subject"]),
            "certificates": [{"certificate": c.certificate, "level": c.level, "status": c.status,
                              "at": iso(c.updated_at)} for c in certs]}


def class_heatmap(sess: so.Session, class_id: int, school_id: int, subject: str, lang: str) -> dict[str, Any]:
    cfg = settings(school_id)
    leaves = [p for p in catalogue.points(sess, subject) if p.parent_code]
    kids = sess.execute(sa.select(Student.id, Student.name).where(Student.class_id == class_id,
                                                                 Student.status_code == "01")
                        .order_by(Student.student_no)).all()
    ids = [k.id for k in kids]
    cells = {(m.student_id, m.code): m for m in sess.scalars(sa.select(Mastery).where(
        Mastery.student_id.in_(ids), Mastery.code.in_([p.code for p in leaves])))} if ids else {}
    points = []
    for p in leaves:
        vals = [cells[(s, p.code)] for s in ids if (s, p.code) in cells]
        points.append({"code": p.code, "name": _name(p, lang),
                       "mean": round(sum(m.p for m in vals) / len(vals), 3) if vals else None,
                       "weak": sum(1 for m in vals if weak(m.p, m.attempts, cfg)), "students": len(vals)})
    return {"class_id": class_id, "subject": subject, "threshold": cfg["weak_threshold"],
            "points": points, "students": [{"id": k.id, "name": k.name} for k in kids],
            "cells": [[round(cells[(s, p.code)].p, 3) if (s, p.code) in cells else None for p in leaves] for s in ids],
            "weakest": sorted([p for p in points if p["mean"] is not None], key=lambda p: p["mean"])[:5]}
