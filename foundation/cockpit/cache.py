"""The cockpits' cache: each figure's cells per (figure, school, period), as the school computed them (before
roll-up and suppression, which depend on the whole published table and run at each read).

A row is used while it is fresh:

- not marked stale: the domain events that change figures (``EVENTS``: attendance and conduct records, points,
  screenings, tests, after-school rolls, forms submitted and decided, alert cases opened, escalated and closed;
  ``foundation.events``) mark the rows of the schools they name, for periods not yet over, stale;
- and younger than its maximum age: an hour for figures "as of now" and for the period under way, a week for
  a period that is over (records arrive late), so that what no event announces still comes in.

A stale or old row is recomputed at the next read of it; ``refresh`` recomputes everything (the nightly run
of ``jizuo cockpit refresh``, and the page's 刷新 button). The cells of a failing figure are not kept.
"""
from __future__ import annotations

import logging
import time as clock
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow
from foundation.models.base import SchoolScoped
from foundation.tenancy import one_of, unscoped

log = logging.getLogger("jizuo.cockpit")
CACHE = unscoped("the cockpits' cache: a school's computed figures, read whole by the pipeline that rolls them "
                 "up and suppresses them before anyone sees them, and marked stale for the schools an event names")
NOW_AGE = timedelta(hours=1)  # then recomputed: at once by a page in the background, or by the nightly refresh
PAST_AGE = timedelta(days=7)
_DEBOUNCE = 30.0  # seconds: a burst of events marks a school stale once
_marked: dict[int, float] = {}


class CockpitFigure(SchoolScoped, Base):
    __tablename__ = "cockpit_figures"
    __table_args__ = (sa.UniqueConstraint("figure", "school_id", "period", name="uq_cockpit_figures_cell"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    figure: so.Mapped[str] = so.mapped_column(sa.String(120))
    period: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)  # "now", a term or a month key
    period_end: so.Mapped[date | None] = so.mapped_column()
    cells: so.Mapped[list[dict[str, Any]] | None] = so.mapped_column(sa.JSON)
    error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    computed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    stale: so.Mapped[bool] = so.mapped_column(default=False)

    @classmethod
    def tenant_criteria(cls, scope):
        # cells go down to classes: only those who see the school's every student read them through a session
        return one_of(cls.school_id, scope.full_school_ids)


def fresh(row: CockpitFigure, now: datetime, today: date) -> bool:
    if row.stale:
        return False
    over = row.period_end is not None and row.period_end <= today
    return now - row.computed_at < (PAST_AGE if over else NOW_AGE)


def load(sess: so.Session, figures: list[str], schools: list[int], period: str) -> dict[tuple[str, int], CockpitFigure]:
    """The cached rows of ``figures`` for ``schools`` in ``period`` (and "now"), fresh or not."""
    if not figures or not schools:
        return {}
    with CACHE.on(sess):
        rows = sess.scalars(sa.select(CockpitFigure).where(
            CockpitFigure.figure.in_(figures), CockpitFigure.school_id.in_(schools),
            CockpitFigure.period.in_(sorted({period, "now"})))).all()
    return {(r.figure, r.school_id): r for r in rows if r.period == period or r.period == "now"}


def store(sess: so.Session, rows: dict[tuple[str, int], CockpitFigure],
          computed: list[tuple[str, int, str, date | None, list | None, str | None]]) -> None:
    """Write what was just computed: (figure, school, period key, period end, cells, error), updating the
    rows loaded before, inserting the others. Flushed, not committed."""
    now = utcnow()
    try:
        with sess.begin_nested(), CACHE.on(sess):
            _write(sess, rows, computed, now)
    except sa.exc.IntegrityError:  # another process cached the same cells first: theirs are as fresh
        log.info("cockpit cells cached concurrently; kept the other writer's")
        for key in [k for k, r in rows.items() if r not in sess]:
            rows.pop(key)


def _write(sess: so.Session, rows: dict, computed: list, now: datetime) -> None:
    for figure, school, period, end, cells, error in computed:
        row = rows.get((figure, school))
        if row is None or row.period != period:
            row = sess.scalar(sa.select(CockpitFigure).where(
                CockpitFigure.figure == figure, CockpitFigure.school_id == school, CockpitFigure.period == period))
        if row is None:
            row = CockpitFigure(figure=figure, school_id=school, period=period)
            sess.add(row)
        row.period_end, row.cells, row.error, row.computed_at, row.stale = end, cells, error, now, False
        rows[(figure, school)] = row
    sess.flush()


def mark_stale(sess: so.Session, schools: set[int], today: date) -> int:
    """Rows of periods not yet over, for ``schools``, are stale: recomputed at their next read."""
    if not schools:
        return 0
    with CACHE.on(sess):
        result = sess.execute(sa.update(CockpitFigure).where(
            CockpitFigure.school_id.in_(sorted(schools)), CockpitFigure.stale.is_(False),
            sa.or_(CockpitFigure.period_end.is_(None), CockpitFigure.period_end > today)).values(stale=True)
            .execution_options(synchronize_session=False))
    return result.rowcount or 0


def on_event(event: str, payloads: list[dict]) -> None:
    """Any domain event: its schools' figures of periods under way are stale (debounced per school)."""
    from foundation.cockpit.periods import local_today
    from foundation.events import _session

    sess = _session()
    if sess is None:
        return
    now = clock.monotonic()
    schools = {p.get("school_id") for p in payloads if isinstance(p, dict)}
    schools = {s for s in schools if isinstance(s, int) and now - _marked.get(s, -1e9) > _DEBOUNCE}
    if schools:
        mark_stale(sess, schools, local_today())
        _marked.update(dict.fromkeys(schools, now))


def forget_marks(schools: set[int] | None = None) -> None:
    """After a recompute the next event marks the school again at once."""
    if schools is None:
        _marked.clear()
    for s in schools or ():
        _marked.pop(s, None)


_subscribed = False
# the catalogue's events (docs/events.md) that change what a figure counts; the rest wait for the maximum age
EVENTS = ("alert.case.*", "attendance.*", "conduct.recorded", "points.ledger.changed", "screening.*",
          "test.scored", "item.responded", "homework.submitted", "afterschool.*", "lowcode.*", "activity.recorded")


def subscribe() -> None:
    global _subscribed
    if not _subscribed:
        from foundation.events import subscribe as on

        for pattern in EVENTS:
            on(pattern, on_event)
        _subscribed = True
