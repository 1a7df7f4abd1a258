"""Screenings: a psychology teacher schedules one for classes over a window of dates; students answer on
their own accounts (or a psychology teacher enters a class's paper answers in bulk); each response is scored
in process, stored in the plugin's own table and, at a level, raises the alert case. Under-14s without a
guardian's consent are listed as awaiting consent and cannot be screened."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import (
    OrgUnit,
    Student,
    ValidationFailed,
    bulk_insert,
    plugin_config,
    raise_alerts,
    school_calendar,
    send_message,
    text_field,
    utcnow,
)
from plugins.wellbeing import consent, scales, scoring
from plugins.wellbeing.models import Response, Screening, responses

RULE = "wellbeing.screening"
NAME = "wellbeing"
MAX_WINDOW_DAYS = 62


def config(school_id: int) -> dict[str, Any]:
    return plugin_config(NAME, school_id) or {}


def levels(cfg: dict[str, Any]) -> dict[str, int]:
    return {k: cfg[k] for k in scoring.DEFAULT_LEVELS if k in cfg}


def today(sess: so.Session, school_id: int) -> date:
    return school_calendar(sess, school_id).local_date(utcnow())


def _date(data: dict[str, Any], key: str, errors: dict[str, list[str]]) -> date | None:
    """``data[key]`` as a calendar day (YYYY-MM-DD), else the reason in ``errors``."""
    value = data.get(key)
    if not isinstance(value, str):
        errors[key] = ["field.required"]
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[key] = ["field.invalid"]
        return None


def schedule(sess: so.Session, school_id: int, data: dict[str, Any], account_id: int | None,
             name: str) -> tuple[Screening, int]:
    """A new screening (checked whole: 422 naming each bad field) and the guardians asked for consent."""
    errors: dict[str, list[str]] = {}
    instrument, form = data.get("instrument"), None
    if data.get("extra_questions") is not None:  # the school's own questions live in its clone of the scale
        errors["extra_questions"] = ["wellbeing.error.extra_in_clone"]
    if data.get("form_id") is not None:  # the school's clone of a scale, with its own questions
        got = scales.clone_questions(sess, data["form_id"], school_id)
        if got is None:
            errors["form_id"] = ["wellbeing.error.form"]
        elif instrument not in (None, got[0]):
            errors["instrument"] = ["wellbeing.error.form_instrument"]
        else:
            instrument, form = got
    if instrument not in scoring.INSTRUMENTS and not errors:
        errors["instrument"] = ["wellbeing.error.instrument"]
    title = text_field(data, "title", required=False, limit=120)
    opens, closes = _date(data, "opens_on", errors), _date(data, "closes_on", errors)
    if opens and closes and not 0 <= (closes - opens).days <= MAX_WINDOW_DAYS:
        errors["closes_on"] = ["wellbeing.error.window"]
    classes = _classes(sess, school_id, data.get("class_ids"), data.get("grade_ids"), errors)
    extra = form["questions"] if form else []
    if errors:
        raise ValidationFailed(errors)
    scale = scoring.instrument(instrument)
    title = title or (form and form["title"]) or scale["title"]["zh"]  # a clone's name says which
    row = Screening(school_id=school_id, instrument=instrument, title=title,
                    class_ids=classes, opens_on=opens, closes_on=closes, extra_questions=extra,
                    created_by=account_id, created_by_name=name, created_at=utcnow(),
                    form_id=form and form["id"], form_version=form and form["version"])
    sess.add(row)
    sess.flush()
    young = [s for s in targets(sess, row) if consent.under_age(s["birth_date"], opens)]
    asked = consent.ask(sess, school_id, young, row.title)
    return row, asked


def _classes(sess: so.Session, school_id: int, class_ids: Any, grade_ids: Any,
             errors: dict[str, list[str]]) -> list[int]:
    """The classes named, and every class of the grades named — all of this school (else 422)."""
    ids: list[int] = []
    for key, value in (("class_ids", class_ids), ("grade_ids", grade_ids)):
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value) \
                or len(value) > 500:
            errors[key] = ["field.invalid"]
            return []
    ou = OrgUnit.__table__.c
    if class_ids:
        found = set(sess.scalars(sa.select(ou.id).where(ou.id.in_(class_ids), ou.kind == "class",
                                                        ou.school_id == school_id)))
        if found != set(class_ids):
            errors["class_ids"] = ["wellbeing.error.class"]
        ids += sorted(found)
    if grade_ids:
        grades = set(sess.scalars(sa.select(ou.id).where(ou.id.in_(grade_ids), ou.kind == "grade",
                                                         ou.school_id == school_id)))
        if grades != set(grade_ids):
            errors["grade_ids"] = ["wellbeing.error.grade"]
        ids += list(sess.scalars(sa.select(ou.id).where(ou.parent_id.in_(grades), ou.kind == "class")))
    if not ids and "class_ids" not in errors and "grade_ids" not in errors:
        errors["class_ids"] = ["field.required"]
    return sorted(set(ids))


def targets(sess: so.Session, screening: Screening) -> list[dict[str, Any]]:
    """The screening's students (enrolled, in its classes): id, name, number, class, birth date."""
    st = Student.__table__.c
    rows = sess.execute(sa.select(st.id, st.name, st.student_no, st.class_id, st.birth_date)
                        .where(st.class_id.in_(screening.class_ids), st.status_code == "01")
                        .order_by(st.class_id, st.student_no))
    return [dict(r._mapping) for r in rows]


def roster(sess: so.Session, screening: Screening) -> list[dict[str, Any]]:
    """Each student's state: ``submitted``, ``awaiting_consent``, ``consent_refused`` or ``not_yet``
    (absent, once the window closed)."""
    kids = targets(sess, screening)
    done = set(sess.scalars(sa.select(Response.student_id).where(Response.screening_id == screening.id)))
    consents = consent.states(sess, [k["id"] for k in kids])
    for k in kids:
        k["state"] = state(k, screening, k["id"] in done, consents.get(k["id"]))
        k.pop("birth_date")
    return kids


def state(kid: dict[str, Any], screening: Screening, done: bool, consent_state: str | None) -> str:
    if done:
        return "submitted"
    if consent.under_age(kid["birth_date"], screening.opens_on) and consent_state != "granted":
        return "consent_refused" if consent_state == "refused" else "awaiting_consent"
    return "not_yet"


def open_for(sess: so.Session, student: Any) -> list[Screening]:
    """Screenings open today for the student's class that the student has not answered."""
    now = today(sess, student.school_id)
    rows = sess.scalars(sa.select(Screening).where(Screening.opens_on <= now, Screening.closes_on >= now)
                        .order_by(Screening.opens_on, Screening.id)).all()
    done = set(sess.scalars(sa.select(Response.screening_id).where(Response.student_id == student.id)))
    return [s for s in rows if student.class_id in s.class_ids and s.id not in done]


def remind(sess: so.Session, screening: Screening) -> int:
    """A reminder to the students who may answer and have not; returns how many."""
    waiting = [k["id"] for k in roster(sess, screening) if k["state"] == "not_yet"]
    if waiting:
        send_message(sess, "wellbeing.reminder", recipients=[{"students": waiting}],
                     variables={"screening": screening.title, "closes_on": screening.closes_on.isoformat()},
                     school_id=screening.school_id, link=f"/wellbeing/screenings/{screening.id}/fill",
                     dedupe_key=f"wellbeing-remind-{screening.id}-{utcnow():%Y%m%d%H}")
    screening.reminded_at = utcnow()
    sess.flush()
    return len(waiting)


def submit(sess: so.Session, screening: Screening, items: list[dict[str, Any]], account_id: int | None) -> int:
    """Score and store ``items`` (``{"student_id", "answers", "extra"?}``), raise the cases; all or none:
    422 naming each bad item (``responses.<i>.answers``…). Returns how many were stored."""
    school, errors = screening.school_id, {}
    now, day = utcnow(), today(sess, screening.school_id)
    if not screening.opens_on <= day <= screening.closes_on:
        raise ValidationFailed({"screening": ["wellbeing.error.closed"]})
    ids = [i.get("student_id") for i in items]
    st = Student.__table__.c
    kids: dict[int, dict[str, Any]] = {}
    clean = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    for n in range(0, len(clean), 900):
        kids.update({r.id: dict(r._mapping) for r in sess.execute(
            sa.select(st.id, st.class_id, st.birth_date, st.status_code).where(st.id.in_(clean[n:n + 900])))})
    consents = consent.states(sess, [k for k in kids if consent.under_age(kids[k]["birth_date"], screening.opens_on)])
    done = _answered(sess, screening.id, list(kids))
    seen: set[int] = set()
    cfg = levels(config(school))
    rows, hits = [], []
    for n, item in enumerate(items):
        where = f"responses.{n}" if len(items) > 1 else ""
        sid = item.get("student_id")
        kid = kids.get(sid) if isinstance(sid, int) else None
        if kid is None or kid["class_id"] not in screening.class_ids or kid["status_code"] != "01":
            errors[_k(where, "student_id")] = ["wellbeing.error.not_in_screening"]
            continue
        why = "wellbeing.error.already" if sid in done or sid in seen else None
        if why is None and state(kid, screening, False, consents.get(sid)) != "not_yet":
            why = "wellbeing.error.awaiting_consent"
        if why:
            errors[_k(where, "student_id")] = [why]
            continue
        seen.add(sid)
        problem = scoring.check(screening.instrument, item.get("answers"))
        if problem:
            errors[_k(where, "answers")] = [problem]
            continue
        extra = _extra_answers(screening, item.get("extra"), _k(where, "extra"), errors)
        got = scoring.score(screening.instrument, item["answers"], cfg)
        rows.append({"school_id": school, "student_id": sid, "class_id": kid["class_id"],
                     "screening_id": screening.id, "instrument": screening.instrument, "answers": item["answers"],
                     "extra": extra, "total": got["total"], "band": got["band"], "item9": got["item9"],
                     "level": got["level"], "reasons": got["reasons"], "submitted_at": now,
                     "submitted_by": account_id, "case_id": None, "contact_due_at": None, "plan_due_at": None,
                     "follow_due_at": None})
        if got["level"]:
            hits.append({"student_id": sid, "level": got["level"], "occurrence": f"screening:{screening.id}",
                         "detail": {"screening": screening.id, "scale": scoring.instrument(screening.instrument)["scale"]}})
    if errors:
        raise ValidationFailed(errors)
    if hits:
        by_student = {r["student_id"]: r for r in rows}
        for case in raise_alerts(sess, RULE, school, hits, source=NAME):
            by_student[case.student_id].update(case_id=case.id, contact_due_at=case.contact_due_at, plan_due_at=case.plan_due_at,
                       follow_due_at=case.follow_due_at)
    bulk_insert(sess, responses, rows)
    return len(rows)


def _k(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _answered(sess: so.Session, screening_id: int, ids: list[int]) -> set[int]:
    out: set[int] = set()
    for n in range(0, len(ids), 900):
        out |= set(sess.scalars(sa.select(Response.student_id).where(Response.screening_id == screening_id,
                                                                     Response.student_id.in_(ids[n:n + 900]))))
    return out


def _extra_answers(screening: Screening, value: Any, key: str, errors: dict[str, list[str]]) -> dict[str, Any] | None:
    if not screening.extra_questions:
        return None
    value = {} if value is None else value
    if not isinstance(value, dict):
        errors[key] = ["field.invalid"]
        return None
    out = {}
    for q in screening.extra_questions:
        got = _answer(q, value.get(q["key"]))
        if isinstance(got, str) and got.startswith("!"):
            errors[f"{key}.{q['key']}"] = [got[1:]]
        elif got is not None:
            out[q["key"]] = got
    return out or None


def _answer(q: dict[str, Any], value: Any) -> Any:
    """An extra question's answer as kept, None when blank, or ``"!<reason>"``: the kind and the options
    the school's clone gave it (free text when it has none)."""
    if value in (None, ""):
        return "!field.required" if q.get("required") else None
    options = [o["value"] for o in q.get("options") or []]
    kind = q.get("type", "string")
    if options:
        return value if value in options and type(value) is type(options[0]) else "!field.invalid"
    if kind == "boolean":
        return value if isinstance(value, bool) else "!field.invalid"
    if kind in ("integer", "number"):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and (kind == "number" or value == int(value))
        return value if ok else "!field.invalid"
    if not isinstance(value, str):
        return "!field.invalid"
    text = value.strip()
    return text[:500] if len(text) <= 500 else "!field.too_long:500"


def retention_cutoff(sess: so.Session, school_id: int) -> Any:
    return utcnow() - timedelta(days=int(config(school_id).get("retention_days", 1095)))
