"""A school's side of the alert engine through the API: its deadlines, escalation chain and school week
(alerts.configure), its calendar of holidays and make-up school days, and the figures — timeliness and
effect per school, rule, class or teacher (alerts.overview)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import jsonify, request
from marshmallow import fields, validate

from foundation import db
from foundation.alerts.calendar import DEFAULT_TZ, check_settings, load_clock
from foundation.alerts.figures import GROUPS, figures
from foundation.api.blueprint import bp, doc
from foundation.api.common import load_body, load_query, principal
from foundation.api.schemas import Strict, _id
from foundation.audit import record
from foundation.errors import NotFound, ValidationFailed
from foundation.i18n import current_lang
from foundation.models import AlertSettings, OrgUnit, SchoolCalendarDay
from foundation.permissions import Forbidden
from foundation.tenancy import unscoped

SIDE_BY_SIDE = unscoped("district figures: every school side by side, for district staff (checked and audited)")


def school_of_caller(cap: str, wanted: int | None = None) -> int:
    """The school the caller acts for with ``cap`` (the one asked for, or their first)."""
    p = principal()
    schools = sorted(s for s in p.school_ids() if p.can(cap, s))
    if wanted is not None:
        if wanted not in p.school_ids():
            raise NotFound("school")
        if wanted not in schools:
            raise Forbidden(cap)
        return wanted
    if not schools:
        raise Forbidden(cap)
    return schools[0]


class SchoolQuery(Strict):
    school_id = _id()


class SettingsIn(Strict):
    deadlines = fields.Raw()
    chain = fields.Raw()
    weekdays = fields.Raw()
    timezone = fields.Raw()


class CalendarQuery(SchoolQuery):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100, error="field.range:{min}-{max}"))


class DayIn(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(["holiday", "workday"], error="field.one_of"))
    name = fields.String(validate=validate.Length(max=60, error="field.length:60"), allow_none=True)


class FiguresQuery(SchoolQuery):
    by = fields.String(load_default="school", validate=validate.OneOf(GROUPS, error="field.one_of"))
    district = fields.Boolean()  # district staff: every school, side by side
    since = fields.Date(error_messages={"invalid": "alerts.date"})


def settings_view(school_id: int) -> dict:
    c = load_clock(db.session(), school_id)
    return {"school_id": school_id, "deadlines": c.deadlines, "chain": c.chain, "weekdays": sorted(c.weekdays),
            "timezone": str(c.tz.key)}


@bp.get("/alerts/settings")
@doc("The school's alert deadlines per level, escalation chain, school week and time zone", tags=["alerts"],
     query=SchoolQuery, response="AlertSettingsOut")
def get_alert_settings():
    args = load_query(SchoolQuery())
    return jsonify(settings_view(school_of_caller("alerts.overview", args.get("school_id"))))


@bp.put("/alerts/settings")
@doc("Change the school's deadlines, escalation chain, school week or time zone", tags=["alerts"], body=SettingsIn,
     response="AlertSettingsOut")
def put_alert_settings():
    school = school_of_caller("alerts.configure", request.args.get("school_id", type=int))
    body = load_body(SettingsIn())
    sess = db.session()
    row = sess.scalar(sa.select(AlertSettings).where(AlertSettings.school_id == school))
    clean, errors = check_settings(body, row.deadlines if row is not None else None)
    if errors:
        raise ValidationFailed(errors)
    if row is None:
        current = settings_view(school)
        row = AlertSettings(school_id=school, deadlines=current["deadlines"], chain=current["chain"],
                            weekdays=current["weekdays"], timezone=DEFAULT_TZ)
        sess.add(row)
    for key, value in clean.items():
        setattr(row, key, value)
    row.updated_by = principal().account_id
    sess.flush()
    record("alerts.settings.update", "alert_settings", school, school_id=school, detail=clean)
    return jsonify(settings_view(school))


def _day_view(d: SchoolCalendarDay) -> dict:
    return {"day": d.day.isoformat(), "kind": d.kind, "name": d.name}


@bp.get("/alerts/calendar")
@doc("The school's holidays and make-up school days (调休), by year", tags=["alerts"], query=CalendarQuery,
     response="CalendarOut")
def get_alert_calendar():
    args = load_query(CalendarQuery())
    school = school_of_caller("alerts.case.read", args.get("school_id"))
    stmt = sa.select(SchoolCalendarDay).where(SchoolCalendarDay.school_id == school).order_by(SchoolCalendarDay.day)
    if "year" in args:
        stmt = stmt.where(SchoolCalendarDay.day.between(date(args["year"], 1, 1), date(args["year"], 12, 31)))
    days = db.session().scalars(stmt).all()
    c = load_clock(db.session(), school)
    return jsonify({"school_id": school, "weekdays": sorted(c.weekdays), "items": [_day_view(d) for d in days],
                    "total": len(days)})


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError as err:
        raise ValidationFailed({"day": ["alerts.date"]}) from err
    if not 2000 <= day.year <= 2100:
        raise ValidationFailed({"day": ["alerts.date"]})
    return day


@bp.put("/alerts/calendar/<day>")
@doc("Mark a day as a holiday or a make-up school day", tags=["alerts"], body=DayIn,
     response="CalendarDayOut")
def put_alert_calendar_day(day: str):
    school = school_of_caller("alerts.configure", request.args.get("school_id", type=int))
    when = _day(day)
    body = load_body(DayIn())
    sess = db.session()
    row = sess.scalar(sa.select(SchoolCalendarDay).where(SchoolCalendarDay.school_id == school,
                                                         SchoolCalendarDay.day == when))
    if row is None:
        row = SchoolCalendarDay(school_id=school, day=when)
        sess.add(row)
    row.kind, row.name = body["kind"], body.get("name")
    sess.flush()
    record("alerts.calendar.set", "alert_calendar", when.isoformat(), school_id=school, detail=_day_view(row))
    return jsonify(_day_view(row))


@bp.delete("/alerts/calendar/<day>")
@doc("Return a day to the school's usual week", tags=["alerts"], response="DayClearedOut")
def delete_alert_calendar_day(day: str):
    school = school_of_caller("alerts.configure", request.args.get("school_id", type=int))
    when = _day(day)
    sess = db.session()
    row = sess.scalar(sa.select(SchoolCalendarDay).where(SchoolCalendarDay.school_id == school,
                                                         SchoolCalendarDay.day == when))
    if row is None:
        raise NotFound("calendar_day")
    sess.delete(row)
    record("alerts.calendar.clear", "alert_calendar", when.isoformat(), school_id=school)
    return jsonify({"day": when.isoformat(), "deleted": True})


@bp.get("/alerts/figures")
@doc("Share handled within deadline, median time to contact, share recovered — per school, rule, class or teacher "
     "(district staff: district=true compares every school, audited)",
     tags=["alerts"], query=FiguresQuery)
def get_alert_figures():
    args = load_query(FiguresQuery())
    since = datetime.combine(args["since"], datetime.min.time()) if "since" in args else None
    p = principal()
    if args.get("district"):  # every school side by side: an explicit, audited district operation
        if not (p.is_district and p.can("district.cross_school")):
            raise Forbidden("district.cross_school")
        schools = list(db.session().scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school"),
                                            execution_options=SIDE_BY_SIDE))
        record("district.alerts.figures", "alert_figures", args["by"], detail={"schools": len(schools)})
        items = figures(db.session(), schools, args["by"], since, current_lang())
        return jsonify({"school_id": None, "by": args["by"], "items": items, "total": len(items)})
    school = school_of_caller("alerts.overview", args.get("school_id"))
    items = figures(db.session(), [school], args["by"], since, current_lang())
    return jsonify({"school_id": school, "by": args["by"], "items": items, "total": len(items)})
