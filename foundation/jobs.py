"""Plugins' periodic jobs (``jizuo_jobs``), run by ``jizuo worker`` for each school where the plugin is
enabled. A run is claimed by inserting its (job, school, period) row: whichever worker inserts it first runs
it, the others skip it (with Redis they skip without asking the database). The run acts for its school
only; its writes commit with the run's outcome, a failure rolls them back and is recorded. A claim whose
worker died mid-run (no outcome after ``JIZUO_JOB_LEASE`` seconds, an hour by default) is taken over by the
next worker, once: nothing of the dead run was committed, so running it again is safe."""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.models import JobRun
from foundation.tenancy import unscoped

log = logging.getLogger("jizuo.jobs")
RUNNER = unscoped("the job runner claims and records each school's run of a plugin's job")
JOB_CODE = unscoped("a plugin's job runs for one school")
WORKER = f"{socket.gethostname()}:{os.getpid()}"


def lease() -> timedelta:
    """How long a claimed run may go without an outcome before another worker takes it over."""
    return timedelta(seconds=max(60, int(os.environ.get("JIZUO_JOB_LEASE", "3600"))))


class JobError(ValueError):
    """A job declaration is malformed (a programming error in the plugin)."""


@dataclass(frozen=True)
class Job:
    key: str
    plugin: str
    title: dict[str, str]
    every: int
    at: time | None
    run: Any

    def period_start(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The start (UTC, naive) of the period ``now`` falls in: daily at ``at`` local time, else every
        ``every`` seconds from the epoch."""
        if self.at is not None:
            local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)
            start = datetime.combine(local.date(), self.at, tzinfo=tz)
            if start > local:
                start -= timedelta(days=1)
            return start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        seconds = int((now - datetime(1970, 1, 1)).total_seconds())
        return datetime(1970, 1, 1) + timedelta(seconds=seconds - seconds % self.every)


def parse(spec: dict[str, Any], plugin: str) -> Job:
    key = spec.get("key") if isinstance(spec, dict) else None
    if not isinstance(key, str) or not key.startswith(plugin + ".") or len(key) > 80:
        raise JobError(f"job key {key!r} must start with {plugin}. (at most 80 characters)")
    every = spec.get("every")
    if isinstance(every, bool) or not isinstance(every, int) or every < 60:
        raise JobError(f"job {key}: every is a period in seconds, at least 60")
    at = spec.get("at")
    if at is not None:
        try:
            at = time.fromisoformat(at)
        except (TypeError, ValueError):
            raise JobError(f"job {key}: at is HH:MM") from None
        if every != 86400:
            raise JobError(f"job {key}: at is for daily jobs (every 86400)")
    if not callable(spec.get("run")):
        raise JobError(f"job {key}: run must be callable(session, school_id)")
    title = spec.get("title") or {"zh": key, "en": key}
    return Job(key=key, plugin=plugin, title=title, every=every, at=at, run=spec["run"])


def all_jobs() -> dict[str, Job]:
    from foundation.plugin_runtime import host

    out: dict[str, Job] = {}
    for plugin, specs in host().each("jizuo_jobs"):
        for spec in specs or []:
            try:
                job = parse(spec, plugin)
            except JobError:
                log.exception("plugin %s declares a bad job", plugin)
                continue
            out[job.key] = job
    return out


def _claim(sess: so.Session, job: Job, school: int, period: datetime) -> JobRun | None:
    """Insert the run's row and commit it, so no other worker runs it; None when one already did."""
    now = utcnow()
    row = JobRun(job=job.key, school_id=school, period_start=period, started_at=now, worker=WORKER)
    try:
        with sess.begin_nested():
            sess.add(row)
            sess.flush()
    except sa.exc.IntegrityError:
        return _take_over(sess, job, school, period, now)
    sess.commit()
    return row


def _take_over(sess: so.Session, job: Job, school: int, period: datetime, now: datetime) -> JobRun | None:
    """The period's claim when its worker died mid-run (no outcome within the lease); None otherwise. The
    conditional update lets one worker, not two, take it."""
    of_period = (JobRun.job == job.key, JobRun.school_id == school, JobRun.period_start == period)
    taken = sess.execute(sa.update(JobRun).where(*of_period, JobRun.finished_at.is_(None),
                                                 JobRun.started_at < now - lease())
                         .values(started_at=now, worker=WORKER).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        sess.rollback()
        return None
    sess.commit()
    log.warning("job %s in school %s: the run claimed for %s had no outcome; taken over", job.key, school, period)
    return sess.scalar(sa.select(JobRun).where(*of_period))


def run_job(sess: so.Session, job: Job, school: int, period: datetime) -> JobRun | None:
    """Run one school's period of ``job`` if nobody has: ``sess`` is the runner's unscoped session."""
    row = _claim(sess, job, school, period)
    if row is None:
        return None
    try:
        with sess.begin_nested(), JOB_CODE.for_school(sess, school):
            result = job.run(sess, school)
        row.ok, row.detail = True, result if isinstance(result, dict) else None
    except Exception as err:  # noqa: BLE001 - one school's failure is recorded; the others run
        log.exception("job %s failed in school %s", job.key, school)
        row.ok, row.error = False, f"{type(err).__name__}: {err}"[:500]
    row.finished_at = utcnow()
    sess.commit()
    return row


def due(sess: so.Session, now: datetime | None = None, only: set[str] | None = None,
        schools: set[int] | None = None) -> list[tuple[Job, int, datetime, bool]]:
    """(job, school, period start, stale) not yet run, for every job in every school where its plugin is
    enabled; ``stale`` when the period was claimed by a worker that gave no outcome within the lease."""
    from foundation.alerts.calendar import load_clock
    from foundation.plugin_runtime import enabled_schools

    at = now or utcnow()
    out = []
    for job in all_jobs().values():
        if only is not None and job.key not in only:
            continue
        for school in sorted(enabled_schools(job.plugin)):
            if schools is not None and school not in schools:
                continue
            period = job.period_start(at, load_clock(sess, school).tz)
            claim = sess.execute(sa.select(JobRun.finished_at, JobRun.started_at).where(
                JobRun.job == job.key, JobRun.school_id == school, JobRun.period_start == period)).first()
            if claim is None or (claim.finished_at is None and claim.started_at < utcnow() - lease()):
                out.append((job, school, period, claim is not None))
    return out


def run_due(now: datetime | None = None, only: set[str] | None = None, schools: set[int] | None = None,
            redis: Any = None, prefix: str = "jizuo") -> list[JobRun]:
    """Every due run, in the app's own session (inside an app context). Returns the runs this call made."""
    from foundation import db

    sess = RUNNER.mark(db.session())
    made = []
    for job, school, period, stale in due(sess, now, only, schools):
        if redis is not None and not stale:  # a dead worker's lock may outlive it: the database decides
            try:
                lock = f"{prefix}:jobs:{job.key}:{school}:{period:%Y%m%dT%H%M%S}"
                if not redis.set(lock, "1", nx=True, ex=max(60, job.every)):
                    continue  # another worker has this period
            except Exception:  # noqa: BLE001 - Redis down: the database claim still decides
                log.warning("job lock unavailable; the database claim decides")
        row = run_job(sess, job, school, period)
        if row is not None:
            made.append(row)
    return made


def last_runs(sess: so.Session, limit: int = 50) -> list[JobRun]:
    return list(sess.scalars(sa.select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))
