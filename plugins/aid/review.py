"""The review loop's reads and writes: the candidate list of a reviewer's reach, one student's aid record,
steps (confirm, dismiss, talk, note), aid recommended and its outcome, time away, and the school's coverage
(counts only). Callers (api.py, views.py) have already checked that the caller is a review role."""
from __future__ import annotations

import logging
from datetime import date, datetime
from statistics import median
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import (
    FlowError,
    OrgUnit,
    Principal,
    Student,
    StudentRef,
    audit,
    decrypt,
    start_flow,
    t,
    utcnow,
)
from plugins.aid import caps as A
from plugins.aid.models import awards, away, declarations, indicators, steps

log = logging.getLogger("jizuo.plugins.aid")
FIGURE_KEYS = ("spend_per_day", "group_spend_per_day", "meals_per_day", "group_meals_per_day",
               "mean_per_transaction", "cheap_pct", "canteen_days", "effective_days", "school_days", "away_days")


def iso(at: datetime | None) -> str | None:
    return at.isoformat() + "Z" if at else None


def reason_line(reasons: list[dict], lang: str | None = None) -> str:
    """The reasons in one line a teacher reads at a glance, e.g. 月均消费低于年级平均 38%；61% 的餐次为最低价…"""
    return t("aid.sep", lang).join(t(f"aid.reason.{r['code']}", lang, **{k: v for k, v in r.items() if k != "code"})
                                   for r in reasons)


def latest_month(sess: so.Session) -> str | None:
    """The latest month with candidates (early in a month, last month's), else the latest computed."""
    return sess.scalar(sa.select(sa.func.max(indicators.c.month)).where(indicators.c.status == "candidate")) or \
        sess.scalar(sa.select(sa.func.max(indicators.c.month)))


def _decisions(sess: so.Session, ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    rows = sess.execute(sa.select(steps.c.student_id, steps.c.kind, steps.c.at, steps.c.note).where(
        steps.c.student_id.in_(ids), steps.c.kind.in_(("confirm", "dismiss"))).order_by(steps.c.at, steps.c.id))
    return {r.student_id: {"kind": r.kind, "at": iso(r.at), "note": r.note} for r in rows}


def candidate_list(sess: so.Session, school: int, p: Principal, month: str | None, status: str, sort: str) -> dict:
    month = month or latest_month(sess)
    st, ou = Student.__table__.c, OrgUnit.__table__.c
    q = (sa.select(indicators, st.name, st.student_no, ou.name.label("class_name"))
         .join(Student.__table__, st.id == indicators.c.student_id)
         .outerjoin(OrgUnit.__table__, ou.id == indicators.c.class_id).where(indicators.c.month == month))
    if status != "all":
        q = q.where(indicators.c.status == status)
    if not A.officer_in(p, school):
        q = q.where(indicators.c.class_id.in_(sorted(A.homeroom_classes(p, school)) or [-1]))
    order = {"score": [indicators.c.dismissed_before, indicators.c.score.desc()],
             "class": [ou.code, st.student_no], "spend": [indicators.c.score.desc()]}[sort]
    rows = sess.execute(q.order_by(*order, indicators.c.student_id)).all()
    if sort == "spend":
        rows.sort(key=lambda r: (r.figures or {}).get("spend_per_day") or 0)
    decided = _decisions(sess, [r.student_id for r in rows])
    items = [{"student_id": r.student_id, "name": r.name, "student_no": r.student_no, "class_id": r.class_id,
              "class_name": r.class_name, "status": r.status, "score": r.score, "reasons": r.reasons,
              "line": reason_line(r.reasons), "figures": {k: (r.figures or {}).get(k) for k in FIGURE_KEYS},
              "dismissed_before": r.dismissed_before, "decision": decided.get(r.student_id)} for r in rows]
    return {"month": month, "school_id": school, "items": items}


def student_view(sess: so.Session, st: StudentRef) -> dict:
    months = sess.execute(sa.select(indicators).where(indicators.c.student_id == st.id)
                          .order_by(indicators.c.month.desc()).limit(3)).all()
    history = sess.execute(sa.select(steps).where(steps.c.student_id == st.id).order_by(steps.c.at.desc(), steps.c.id.desc())).all()
    given = sess.execute(sa.select(awards).where(awards.c.student_id == st.id).order_by(awards.c.id.desc())).all()
    decl = sess.execute(sa.select(declarations).where(declarations.c.student_id == st.id)
                        .order_by(declarations.c.declared_at.desc()).limit(1)).first()
    return {"student_id": st.id, "name": st.name, "student_no": st.student_no,
            "months": [{"month": m.month, "status": m.status, "score": m.score, "reasons": m.reasons,
                        "line": reason_line(m.reasons), "figures": m.figures, "dismissed_before": m.dismissed_before}
                       for m in months],
            "steps": [{"id": s.id, "kind": s.kind, "note": s.note, "method": s.method, "month": s.month,
                       "by": s.by_name, "at": iso(s.at)} for s in history],
            "awards": [award_view(a) for a in given],
            "declaration": None if decl is None else {
                "wants_consideration": decl.wants_consideration, "declared_at": iso(decl.declared_at),
                "situation": decrypt(decl.situation_enc) if decl.situation_enc else None}}


def award_view(a: Any) -> dict:
    return {"id": a.id, "kind": a.kind, "status": a.status, "amount": a.amount, "note": a.note,
            "recommended_at": iso(a.recommended_at), "decided_at": iso(a.decided_at), "by": a.by_name,
            "in_approval": a.flow_submission_id is not None, "flow": a.flow_submission_id}


def add_step(sess: so.Session, st: StudentRef, p: Principal, kind: str, note: str, method: str | None,
             month: str | None) -> dict:
    now = utcnow()
    month = month or sess.scalar(sa.select(sa.func.max(indicators.c.month)).where(indicators.c.student_id == st.id))
    sid = sess.execute(sa.insert(steps).values(
        school_id=st.school_id, student_id=st.id, month=month, kind=kind, note=note, method=method,
        by_account=p.account_id, by_name=p.display_name, at=now).returning(steps.c.id)).scalar_one()
    if kind == "dismiss":  # remembered: the month's row shows it at once, the next months' too (identify)
        sess.execute(sa.update(indicators).where(indicators.c.student_id == st.id, indicators.c.month == month,
                                                 indicators.c.status == "candidate").values(dismissed_before=True))
    return {"id": sid, "kind": kind, "note": note, "method": method, "month": month, "by": p.display_name, "at": iso(now)}


# The approval of recommended aid, on the platform's flow engine (待我审批): the aid officer approves what a
# homeroom teacher recommends, the principal too above 1,000 yuan; what the officer recommends goes to the
# principal above 1,000 yuan, and below it the officer records the outcome. Private: only the recommender
# and the approvers see it, not the school's readers of every form.
PRINCIPAL = {"key": "principal", "title": {"zh": "校长审批", "en": "Principal"}, "approver": {"role": "principal"}}
FLOWS = {"aid.grant": {"steps": [{"key": "aid", "title": {"zh": "资助专干审核", "en": "Aid officer"},
                                  "approver": {"role": "aid_officer"}},
                                 {**PRINCIPAL, "when": {"field": "amount", "op": "gt", "value": 1000}}]},
         "aid.grant_principal": {"steps": [PRINCIPAL]}}


def _flow_for(p: Principal, school_id: int, amount: int | None) -> str | None:
    if not A.officer_in(p, school_id):
        return "aid.grant"
    return "aid.grant_principal" if (amount or 0) > 1000 else None


def add_award(sess: so.Session, st: StudentRef, p: Principal, kind: str, status: str, amount: int | None,
              note: str | None) -> dict:
    now = utcnow()
    aid = sess.execute(sa.insert(awards).values(
        school_id=st.school_id, student_id=st.id, kind=kind, status=status, amount=amount, note=note,
        recommended_at=now, decided_at=now if status == "granted" else None, by_account=p.account_id,
        by_name=p.display_name).returning(awards.c.id)).scalar_one()
    key = _flow_for(p, st.school_id, amount) if status == "recommended" else None
    sub = None
    if key is not None:
        try:
            with sess.begin_nested():
                sub = start_flow(sess, key, FLOWS[key], school_id=st.school_id, student_id=st.id,
                                 submitted_by=p.account_id, private=True, data={"award": aid, "amount": amount or 0},
                                 title={lang: t("aid.flow.title", lang, kind=t(f"aid.award.{kind}", lang))
                                        for lang in ("zh", "en")})
        except FlowError as err:  # nobody holds the approving role in this school: the outcome is recorded by hand
            log.warning("aid award %s recommended without approval: %s", aid, err)
    if sub is not None:
        sess.execute(sa.update(awards).where(awards.c.id == aid, awards.c.status == "recommended")
                     .values(flow_submission_id=sub.id))
    return award_view(sess.execute(sa.select(awards).where(awards.c.id == aid)).one())


def on_flow_finished(sess: so.Session, payloads: list[dict]) -> None:
    """The approval's outcome: approved → granted, rejected → declined (withdrawn: stays recommended)."""
    for p in payloads:
        award = (p.get("data") or {}).get("award")
        status = {"approved": "granted", "rejected": "declined"}.get(p.get("outcome"))
        if p.get("template_key") not in {f"flow:{k}" for k in FLOWS} or not isinstance(award, int) or status is None:
            continue
        done = sess.execute(sa.update(awards).where(awards.c.id == award, awards.c.status == "recommended")
                            .values(status=status, decided_at=utcnow(), flow_submission_id=None))
        if done.rowcount:
            audit("aid.award.decide", "student", p.get("student_id"), school_id=p.get("school_id"),
                  detail={"award": award, "status": status, "flow": p.get("submission_id")})


def award_student(sess: so.Session, award_id: int) -> int | None:
    if not 0 < award_id < 2**31:
        return None
    return sess.scalar(sa.select(awards.c.student_id).where(awards.c.id == award_id))


def award_open(sess: so.Session, award_id: int) -> bool:
    """Recommended, and no approval flow deciding it (its outcome comes from the flow)."""
    return bool(sess.scalar(sa.select(sa.func.count()).select_from(awards).where(
        awards.c.id == award_id, awards.c.status == "recommended", awards.c.flow_submission_id.is_(None))))


def decide_award(sess: so.Session, award_id: int, p: Principal, status: str, note: str | None) -> dict:
    values = {"status": status, "decided_at": utcnow(), "by_account": p.account_id, "by_name": p.display_name}
    if note:
        values["note"] = note
    sess.execute(sa.update(awards).where(awards.c.id == award_id).values(**values))
    return award_view(sess.execute(sa.select(awards).where(awards.c.id == award_id)).one())


def add_away(sess: so.Session, school: int, p: Principal, kind: str, class_id: int | None, student_id: int | None,
             first: date, last: date, note: str | None) -> dict:
    if class_id is not None and sess.scalar(sa.select(OrgUnit.id).where(OrgUnit.id == class_id, OrgUnit.kind == "class")) is None:
        raise LookupError(class_id)
    if student_id is not None and sess.scalar(sa.select(Student.id).where(Student.id == student_id)) is None:
        raise LookupError(student_id)
    rid = sess.execute(sa.insert(away).values(school_id=school, class_id=class_id, student_id=student_id, kind=kind,
                                              first_day=first, last_day=last, note=note, created_by=p.account_id)
                       .returning(away.c.id)).scalar_one()
    return {"id": rid, "kind": kind, "class_id": class_id, "student_id": student_id,
            "first_day": first.isoformat(), "last_day": last.isoformat()}


def coverage(sess: so.Session, school: int) -> dict:
    """Counts only: per month the candidates, students without enough data and the rest; students confirmed,
    how many receive aid (granted), the share, and the median days from confirmation to the first grant."""
    months = sess.execute(sa.select(indicators.c.month, indicators.c.status, sa.func.count())
                          .group_by(indicators.c.month, indicators.c.status).order_by(indicators.c.month)).all()
    series: dict[str, dict[str, int]] = {}
    for m, status, n in months:
        series.setdefault(m, {"candidate": 0, "insufficient": 0, "normal": 0})[status] = n
    last = {}
    for r in sess.execute(sa.select(steps.c.student_id, steps.c.kind, steps.c.at)
                          .where(steps.c.kind.in_(("confirm", "dismiss"))).order_by(steps.c.at, steps.c.id)):
        last[r.student_id] = (r.kind, r.at)
    confirmed = {sid: at for sid, (kind, at) in last.items() if kind == "confirm"}
    dismissed = sum(1 for kind, _ in last.values() if kind == "dismiss")
    granted: dict[int, datetime] = {}
    by_kind: dict[str, int] = {}
    for r in sess.execute(sa.select(awards.c.student_id, awards.c.kind, awards.c.decided_at)
                          .where(awards.c.status == "granted").order_by(awards.c.decided_at)):
        granted.setdefault(r.student_id, r.decided_at)
        by_kind[r.kind] = by_kind.get(r.kind, 0) + 1
    covered = [sid for sid in confirmed if sid in granted]
    waits = [max(0.0, (granted[sid] - confirmed[sid]).total_seconds() / 86400) for sid in covered]
    return {"school_id": school, "months": [{"month": m, **v} for m, v in series.items()],
            "confirmed": len(confirmed), "dismissed": dismissed, "covered": len(covered),
            "coverage_pct": round(100 * len(covered) / len(confirmed)) if confirmed else None,
            "median_days_to_aid": round(median(waits), 1) if waits else None, "granted_by_kind": by_kind}
