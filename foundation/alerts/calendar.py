"""Deadlines on a school's clock: red deadlines run around the clock (hours), yellow ones count school days
on the school's calendar — its usual week, minus the holidays it sets, plus its make-up school days (调休).

A yellow deadline of n school days falls at the end (local midnight) of the n-th school day after the day
the alert came in, so "3 school days" from a Friday afternoon is the end of Wednesday when the weekend is off.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import AlertSettings, SchoolCalendarDay

DEFAULT_DEADLINES: dict[str, dict[str, int]] = {
    "red": {"contact_hours": 1, "plan_hours": 24, "escalate_every_hours": 1},
    "yellow": {"follow_school_days": 3, "escalate_every_school_days": 1},
}
# 班主任 → 年级组长 → 心理教师 → 校长 (the school admin stands for the principal's office)
DEFAULT_CHAIN = ["homeroom_teacher", "grade_head", "psychology_teacher", "school_admin"]
DEFAULT_WEEKDAYS = [0, 1, 2, 3, 4]
DEFAULT_TZ = "Asia/Shanghai"
LIMITS = {"contact_hours": (1, 72), "plan_hours": (1, 336), "escalate_every_hours": (1, 72),
          "follow_school_days": (1, 30), "escalate_every_school_days": (1, 10)}


@dataclass
class SchoolClock:
    """One school's deadline settings and calendar, loaded once per operation."""

    school_id: int
    deadlines: dict[str, dict[str, int]]
    chain: list[str]
    weekdays: frozenset[int]
    tz: ZoneInfo
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    # the school's terms (academic sessions from its roster): a day between the first term's start and the
    # last term's end that no term covers is a vacation (寒暑假); outside that span the usual week applies
    terms: tuple[tuple[date, date], ...] = ()
    # deadlines_for by (level, start): a batch opens thousands of cases at one instant on one clock
    _dues: dict[tuple[str, datetime], dict[str, datetime]] = field(default_factory=dict, repr=False, compare=False)

    def is_school_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if self.terms and self.terms[0][0] <= day <= max(e for _, e in self.terms) and \
                not any(s <= day <= e for s, e in self.terms):
            return False
        return day.weekday() in self.weekdays and day not in self.holidays

    def local_date(self, at: datetime) -> date:
        return at.replace(tzinfo=UTC).astimezone(self.tz).date()

    def end_of_nth_school_day(self, start: datetime, n: int) -> datetime:
        """Local midnight after the n-th school day following ``start``'s local date, as naive UTC."""
        day, counted = self.local_date(start), 0
        for _ in range(3660):  # a calendar with no school day for ten years is a mistake, not a loop forever
            day += timedelta(days=1)
            if self.is_school_day(day):
                counted += 1
                if counted >= n:
                    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
                    return end.astimezone(UTC).replace(tzinfo=None)
        raise ValueError("the school calendar has no school days")

    def deadlines_for(self, level: str, start: datetime) -> dict[str, datetime]:
        """The deadlines a case of ``level`` opened (or re-opened) at ``start`` must meet."""
        key = (level, start)
        if key not in self._dues:
            self._dues[key] = self._deadlines_for(level, start)
        return dict(self._dues[key])

    def _deadlines_for(self, level: str, start: datetime) -> dict[str, datetime]:
        d = self.deadlines[level]
        if level == "red":
            return {"contact": start + timedelta(hours=d["contact_hours"]),
                    "plan": start + timedelta(hours=d["plan_hours"])}
        return {"follow": self.end_of_nth_school_day(start, d["follow_school_days"])}

    def next_escalation(self, level: str, after: datetime) -> datetime:
        """When the next escalation step is due, one interval after the previous step."""
        d = self.deadlines[level]
        if level == "red":
            return after + timedelta(hours=d["escalate_every_hours"])
        # a step at local midnight belongs to the day that just ended: the next one ends the next school day
        return self.end_of_nth_school_day(after - timedelta(microseconds=1), d["escalate_every_school_days"])


def _merged(saved: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    out = {lvl: dict(v) for lvl, v in DEFAULT_DEADLINES.items()}
    for lvl, values in (saved or {}).items():
        if lvl in out and isinstance(values, dict):
            out[lvl].update({k: v for k, v in values.items() if k in out[lvl]})
    return out


def load_clock(sess: so.Session, school_id: int) -> SchoolClock:
    """The school's settings (defaults where it set none) and its calendar days."""
    return load_clocks(sess, [school_id])[school_id]


def load_clocks(sess: so.Session, school_ids: list[int]) -> dict[int, SchoolClock]:
    """:func:`load_clock` for many schools in three queries (a district's scheduled pass)."""
    from foundation.models import AcademicSession

    ids = sorted(set(school_ids))
    if not ids:
        return {}
    settings = {r.school_id: r for r in sess.scalars(sa.select(AlertSettings).where(AlertSettings.school_id.in_(ids)))}
    days: dict[int, list[tuple[date, str]]] = {s: [] for s in ids}
    for school, day, kind in sess.execute(sa.select(SchoolCalendarDay.school_id, SchoolCalendarDay.day,
                                                    SchoolCalendarDay.kind)
                                          .where(SchoolCalendarDay.school_id.in_(ids))):
        days[school].append((day, kind))
    sessions = sess.execute(sa.select(AcademicSession.school_id, AcademicSession.kind, AcademicSession.start_date,
                                      AcademicSession.end_date)
                            .where(AcademicSession.active.is_(True), sa.or_(AcademicSession.school_id.is_(None),
                                                                            AcademicSession.school_id.in_(ids)))).all()
    out = {}
    for school in ids:
        row = settings.get(school)
        try:
            tz = ZoneInfo(row.timezone if row else DEFAULT_TZ)
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo(DEFAULT_TZ)
        out[school] = SchoolClock(
            school_id=school, deadlines=_merged(row.deadlines if row else None),
            chain=list(row.chain) if row else list(DEFAULT_CHAIN),
            weekdays=frozenset(row.weekdays if row else DEFAULT_WEEKDAYS), tz=tz,
            holidays=frozenset(d for d, k in days[school] if k == "holiday"),
            workdays=frozenset(d for d, k in days[school] if k == "workday"),
            terms=_terms([(k, s, e) for owner, k, s, e in sessions if owner is None or owner == school]))
    return out


def load_terms(sess: so.Session, school_id: int) -> tuple[tuple[date, date], ...]:
    """(start, end) of the school's active terms and semesters (its own and the district's), by start; its
    school years when it has no shorter session."""
    from foundation.models import AcademicSession

    rows = sess.execute(sa.select(AcademicSession.kind, AcademicSession.start_date, AcademicSession.end_date)
                        .where(AcademicSession.active.is_(True), sa.or_(AcademicSession.school_id.is_(None),
                                                                        AcademicSession.school_id == school_id))).all()
    return _terms(rows)


def _terms(rows) -> tuple[tuple[date, date], ...]:
    terms = [(s, e) for k, s, e in rows if k in ("term", "semester")] or [(s, e) for k, s, e in rows if k == "schoolYear"]
    return tuple(sorted(terms))


def check_settings(body: dict[str, Any], saved_deadlines: dict[str, Any] | None = None,
                   ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate a settings change (deadlines, chain, weekdays, timezone): (clean values, errors per field).
    Deadlines not named in the change keep their saved values (``saved_deadlines``), not the defaults."""
    from foundation.alerts.rules import assignable

    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "deadlines" in body:
        dl = body["deadlines"]
        if not isinstance(dl, dict) or set(dl) - set(DEFAULT_DEADLINES):
            errors["deadlines"] = ["alerts.settings.deadlines"]
        else:
            merged = _merged(saved_deadlines)
            for lvl, values in dl.items():
                if not isinstance(values, dict) or set(values) - set(merged[lvl]):
                    errors[f"deadlines.{lvl}"] = ["alerts.settings.deadlines"]
                    continue
                for k, v in values.items():
                    lo, hi = LIMITS[k]
                    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                        errors[f"deadlines.{lvl}.{k}"] = [f"alerts.settings.range:{lo}-{hi}"]
                    else:
                        merged[lvl][k] = v
            clean["deadlines"] = merged
    if "chain" in body:
        chain = body["chain"]
        if (not isinstance(chain, list) or not 1 <= len(chain) <= 8 or len(set(map(str, chain))) != len(chain)
                or not all(isinstance(r, str) and r in assignable() for r in chain)):
            errors["chain"] = ["alerts.settings.chain"]
        else:
            clean["chain"] = chain
    if "weekdays" in body:
        wd = body["weekdays"]
        if (not isinstance(wd, list) or not wd or len(set(map(str, wd))) != len(wd)
                or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in wd)):
            errors["weekdays"] = ["alerts.settings.weekdays"]
        else:
            clean["weekdays"] = sorted(wd)
    if "timezone" in body:
        tz = body["timezone"]
        try:
            if not isinstance(tz, str) or not 0 < len(tz) <= 40:
                raise ValueError(tz)
            ZoneInfo(tz)
            clean["timezone"] = tz
        except (ZoneInfoNotFoundError, ValueError, OSError):
            errors["timezone"] = ["alerts.settings.timezone"]
    return clean, errors
