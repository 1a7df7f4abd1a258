"""The core's own figures for the cockpits (局长看板, 校长看板), in the same contract as the plugins'
``jizuo_district_figures``: people (students, classes, staff), alerts (open cases, timeliness and effect —
the psychology/aid kind in figures of their own, since even their existence is sensitive), home-school
communication (notices, acknowledgements, replies per class, 频率和效果) and low-code apps (built, reused,
promoted). Each compute runs for one school, acting for it (the pipeline scopes the session), in one or two
grouped statements; groups are categories (grade and class names, levels, kinds), never a person.

Stored times are UTC; a period's dates are the district's local dates (Asia/Shanghai), end exclusive.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import AlertCase, AppListing, InboxItem, LowcodeForm, Message, OrgUnit, Staff, Student

LOCAL = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
NOTICE_TYPES = ("notice", "emergency")
Cells = list[dict[str, Any]]


def utc_bounds(period: dict[str, Any]) -> tuple[datetime, datetime]:
    """A period's local dates as naive UTC datetimes ``[start, end)``, to compare with stored times."""
    def utc(d: date) -> datetime:
        return datetime.combine(d, time(), LOCAL).astimezone(UTC).replace(tzinfo=None)
    return utc(period["start"]), utc(period["end"])


def class_groups(sess: so.Session, school_id: int) -> dict[int, dict[str, str | None]]:
    """``{class id: {"grade": name, "class": name}}`` for the school's homeroom classes (one statement)."""
    grade = so.aliased(OrgUnit)
    rows = sess.execute(sa.select(OrgUnit.id, grade.name, OrgUnit.name)
                        .join(grade, grade.id == OrgUnit.parent_id, isouter=True)
                        .where(OrgUnit.school_id == school_id, OrgUnit.kind == "class",
                               sa.or_(OrgUnit.class_type.is_(None), OrgUnit.class_type == "homeroom")))
    return {cid: {"grade": g, "class": c} for cid, g, c in rows}


def _in_class(groups: dict[int, dict], class_id: int | None) -> dict[str, str | None]:
    return dict(groups.get(class_id) or {"grade": None, "class": None})


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# -- people -------------------------------------------------------------------------------------------------

def students(sess: so.Session, school_id: int) -> Cells:
    """Students at school (在读) per grade and class."""
    groups = class_groups(sess, school_id)
    rows = sess.execute(sa.select(Student.class_id, sa.func.count()).where(
        Student.school_id == school_id, Student.status_code == "01").group_by(Student.class_id)).all()
    return [{"group": _in_class(groups, cid), "count": n} for cid, n in rows]


def classes(sess: so.Session, school_id: int) -> Cells:
    """Homeroom classes per grade (count) and their mean size in students (value)."""
    groups = class_groups(sess, school_id)
    size = dict(sess.execute(sa.select(Student.class_id, sa.func.count()).where(
        Student.school_id == school_id, Student.status_code == "01", Student.class_id.in_(list(groups) or [-1]))
        .group_by(Student.class_id)).all())
    per: dict[str | None, list[int]] = {}
    for cid, g in groups.items():
        per.setdefault(g["grade"], []).append(size.get(cid, 0))
    return [{"group": {"grade": g}, "count": len(sizes), "value": round(sum(sizes) / len(sizes), 1)}
            for g, sizes in sorted(per.items(), key=lambda kv: str(kv[0]))]


def staff(sess: so.Session, school_id: int) -> Cells:
    """Active staff per subject taught (those without one: 其他)."""
    subject = sa.func.coalesce(sa.func.nullif(Staff.subject, ""), "其他")
    rows = sess.execute(sa.select(subject, sa.func.count()).where(Staff.school_id == school_id,
                                                                   Staff.active.is_(True)).group_by(subject)).all()
    return [{"group": {"subject": s}, "count": n} for s, n in sorted(rows)]


# -- alerts -------------------------------------------------------------------------------------------------

def _cases(sensitive: bool, category: str | None = None):
    c = AlertCase
    return sa.and_(c.parent_case_id.is_(None), c.sensitive.is_(sensitive),
                   *([c.category == category] if category else []))


def _open_by(sess: so.Session, school_id: int, sensitive: bool, category: str | None = None) -> Cells:
    c = AlertCase
    groups = class_groups(sess, school_id) if not sensitive else {}
    cols = [c.level, c.category] + ([] if sensitive else [c.class_id])
    rows = sess.execute(sa.select(*cols, sa.func.count()).where(
        c.school_id == school_id, c.closed_at.is_(None), _cases(sensitive, category)).group_by(*cols)).all()
    if sensitive:  # few cases: by level and category only, never down to a class
        return [{"group": {"level": lvl, "category": cat}, "count": n} for lvl, cat, n in sorted(rows)]
    acc: dict[tuple, int] = {}
    for lvl, cat, cid, n in rows:
        g = _in_class(groups, cid)
        key = (lvl, cat, g["grade"])
        acc[key] = acc.get(key, 0) + n
    return [{"group": {"level": lvl, "category": cat, "grade": g}, "count": n}
            for (lvl, cat, g), n in sorted(acc.items(), key=lambda kv: tuple(str(x) for x in kv[0]))]


def _handling(sess: so.Session, school_id: int, period: dict[str, Any], sensitive: bool,
              category: str | None = None) -> Cells:
    """Of the cases opened in the period, per level: on time (of those whose deadlines are decided — all
    met, or one missed — the share that met every one) and recovered (of those evaluated, the share)."""
    c = AlertCase
    start, end = utc_bounds(period)
    done = sa.and_(*(sa.or_(due.is_(None), at.is_not(None)) for due, at in (
        (c.contact_due_at, c.contact_at), (c.plan_due_at, c.plan_at), (c.follow_due_at, c.follow_at))))
    decided = sa.or_(c.missed.is_(True), done)
    rows = sess.execute(sa.select(
        c.level, sa.func.count(),
        sa.func.count().filter(decided), sa.func.count().filter(sa.and_(decided, c.missed.is_(False))),
        sa.func.count(c.recovered), sa.func.count().filter(c.recovered.is_(True)))
        .where(c.school_id == school_id, _cases(sensitive, category), c.opened_at >= start, c.opened_at < end)
        .group_by(c.level)).all()
    got = {r[0]: r[1:] for r in rows}
    out = []
    for lvl in ("red", "yellow"):
        _n, dec, within, evaluated, recovered = got.get(lvl, (0, 0, 0, 0, 0))
        out += [{"group": {"level": lvl, "measure": "on_time"}, "count": dec, "value": _share(within, dec)},
                {"group": {"level": lvl, "measure": "recovered"}, "count": evaluated,
                 "value": _share(recovered, evaluated)}]
    return out


def alerts_open(sess: so.Session, school_id: int) -> Cells:
    return _open_by(sess, school_id, sensitive=False)


def alerts_open_sensitive(category: str):
    """Open restricted cases of one category (psychology, aid): each its own figure, seen inside a school
    by the roles that work that category's cases."""
    return lambda sess, school_id: _open_by(sess, school_id, sensitive=True, category=category)


def alerts_handling(sess: so.Session, school_id: int, period: dict[str, Any]) -> Cells:
    return _handling(sess, school_id, period, sensitive=False)


def alerts_handling_sensitive(category: str):
    return lambda sess, school_id, period: _handling(sess, school_id, period, sensitive=True, category=category)


# -- home-school communication ------------------------------------------------------------------------------

def _notice_rows(sess: so.Session, school_id: int, period: dict[str, Any]):
    """Per class the school addressed (None: the whole school): notices, inbox rows asking for an
    acknowledgement, those acknowledged, replies. Two grouped statements."""
    m, i = Message.__table__.c, InboxItem.__table__.c
    start, end = utc_bounds(period)
    mine = sa.and_(m.type_key.in_(NOTICE_TYPES), m.school_id == school_id, m.created_at >= start,
                   m.created_at < end)
    reply = Message.__table__.alias("reply")
    sent = Message.__table__.join(reply, reply.c.reply_to_id == m.id, isouter=True)
    per: dict[int | None, list[int]] = {}
    for cid, n, r in sess.execute(sa.select(m.class_id, sa.func.count(sa.distinct(m.id)), sa.func.count(reply.c.id))
                                  .select_from(sent).where(mine).group_by(m.class_id)):
        per[cid] = [n, 0, 0, r]
    acks = sa.select(m.class_id, sa.func.count(), sa.func.count(i.acked_at)).select_from(
        Message.__table__.join(InboxItem.__table__, i.message_id == m.id)).where(
        mine, m.ack_required.is_(True)).group_by(m.class_id)
    for cid, asked, acked in sess.execute(acks):
        per.setdefault(cid, [0, 0, 0, 0])[1:3] = [asked, acked]
    return per


def _by_audience(sess: so.Session, school_id: int, period: dict[str, Any]) -> list[tuple[dict, list[int]]]:
    groups = class_groups(sess, school_id)
    out = []
    for cid, row in _notice_rows(sess, school_id, period).items():
        g = {"audience": "school", "grade": None, "class": None} if cid is None else \
            {"audience": "class", **_in_class(groups, cid)}
        out.append((g, row))
    return sorted(out, key=lambda x: (x[0]["audience"], str(x[0]["grade"]), str(x[0]["class"])))


def notices(sess: so.Session, school_id: int, period: dict[str, Any]) -> Cells:
    """Notices sent (count) per class and to the whole school, and replies per notice (value)."""
    return [{"group": g, "count": n, "value": round(r / n, 2) if n else None}
            for g, (n, _a, _k, r) in _by_audience(sess, school_id, period)]


def notice_acks(sess: so.Session, school_id: int, period: dict[str, Any]) -> Cells:
    """Recipients asked to confirm a notice (count) and the share who did (value, %)."""
    return [{"group": g, "count": asked, "value": _share(acked, asked)}
            for g, (_n, asked, acked, _r) in _by_audience(sess, school_id, period) if asked]


def notice_replies(sess: so.Session, school_id: int, period: dict[str, Any]) -> Cells:
    """Replies families sent to the school's notices (count), per class."""
    return [{"group": g, "count": r} for g, (_n, _a, _k, r) in _by_audience(sess, school_id, period)]


# -- low-code apps ------------------------------------------------------------------------------------------

def apps(sess: so.Session, school_id: int) -> Cells:
    """The school's apps (main forms, not follow-ups): built (its own, from scratch or from its own),
    reused (cloned from another school's, the district's or a plugin's template), promoted (its apps the
    district promoted to district level in the app square)."""
    f = LowcodeForm
    own = sa.select(f.id).where(f.school_id == school_id).scalar_subquery()
    reused = sa.or_(f.template_key.is_not(None), sa.and_(f.parent_form_id.is_not(None), f.parent_form_id.not_in(own)))
    built, cloned = sess.execute(sa.select(sa.func.count().filter(~reused), sa.func.count().filter(reused)).where(
        f.school_id == school_id, f.main_form_id.is_(None))).one()
    promoted = sess.scalar(sa.select(sa.func.count()).select_from(AppListing).where(
        AppListing.kind == "lowcode", AppListing.owner_school_id == school_id, AppListing.level == "district")) or 0
    return [{"group": {"kind": "built"}, "count": built or 0}, {"group": {"kind": "reused"}, "count": cloned or 0},
            {"group": {"kind": "promoted"}, "count": promoted}]


def _spec(key: str, zh: str, en: str, compute, *, tile: str, unit: str, chart: str = "bar",
          sensitive: bool = False, periods: bool = False, capability: str | None = None) -> dict[str, Any]:
    spec = {"key": key, "title": {"zh": zh, "en": en}, "sensitive": sensitive, "unit": unit, "compute": compute,
            "tile": tile, "chart": chart}
    return spec | ({"periods": True} if periods else {}) | ({"capability": capability} if capability else {})


CORE_FIGURES: list[dict[str, Any]] = [
    _spec("core.students", "在校学生（按年级、班级）", "Students by grade and class", students,
          tile="people", unit="students"),
    _spec("core.classes", "班级数与平均班额", "Classes and mean class size", classes, tile="people", unit="classes"),
    _spec("core.staff", "教职工（按任教学科）", "Staff by subject", staff, tile="people", unit="staff"),
    _spec("core.alerts_open", "未结预警（按等级、类别）", "Open alert cases by level and category", alerts_open,
          tile="alerts", unit="cases", chart="stacked"),
    _spec("core.alerts_handling", "预警按时处置率与好转率", "Alerts handled on time and recovered",
          alerts_handling, tile="alerts", unit="cases", periods=True),
    # restricted categories, each for the roles that work its cases (wellbeing: psychology and wellbeing
    # leads; aid: aid officer, principal, school admin — the capabilities the plugins grant)
    _spec("core.alerts_open_psychology", "心理类未结预警", "Open psychology alert cases",
          alerts_open_sensitive("psychology"), tile="alerts", unit="cases", chart="stacked", sensitive=True,
          capability="wellbeing.answers.read"),
    _spec("core.alerts_handling_psychology", "心理类预警按时处置率与好转率",
          "Psychology alerts handled on time and recovered", alerts_handling_sensitive("psychology"),
          tile="alerts", unit="cases", sensitive=True, periods=True, capability="wellbeing.answers.read"),
    _spec("core.alerts_open_aid", "资助类未结预警", "Open aid alert cases",
          alerts_open_sensitive("aid"), tile="alerts", unit="cases", chart="stacked", sensitive=True,
          capability="aid.coverage.read"),
    _spec("core.alerts_handling_aid", "资助类预警按时处置率与好转率",
          "Aid alerts handled on time and recovered", alerts_handling_sensitive("aid"),
          tile="alerts", unit="cases", sensitive=True, periods=True, capability="aid.coverage.read"),
    _spec("core.notices", "家校通知数（按班级）", "Notices sent per class", notices, tile="communication",
          unit="messages", periods=True),
    _spec("core.notice_acks", "通知确认率", "Notice acknowledgement share", notice_acks, tile="communication",
          unit="messages", periods=True),
    _spec("core.notice_replies", "家长回复数（按班级）", "Family replies per class", notice_replies,
          tile="communication", unit="messages", periods=True),
    _spec("core.apps", "低代码应用：自建、复用、推广", "Low-code apps: built, reused, promoted", apps,
          tile="apps", unit="apps"),
]
