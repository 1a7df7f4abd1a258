"""Raising alerts: open a case for (student, rule), or raise the open case's count; assign people, set the
deadlines on the school's clock, attach yellow work to an open red case of the same category, and tell
the assignees. One batch path serves a single event (``trigger``), a batch of one school (``trigger_many``,
returning session objects) and a scheduled scan's results for every school at once (``trigger_district``,
plain rows): a handful of statements per batch, not per student or per school."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.alerts import assign, clock, notify
from foundation.alerts.calendar import SchoolClock, load_clocks
from foundation.alerts.rules import Rule, RuleError, resolve
from foundation.models import AlertAssignee, AlertCase, AlertEvent, Student
from foundation.plugin_models import bulk_insert, in_parts, insert_ids, update_rows
from foundation.tenancy import unscoped

ENGINE = unscoped("the alert engine opens and updates cases for the school they are in, whoever raised them")

def refresh_due(case: AlertCase) -> None:
    """``next_due_at``: the earliest deadline of the current round not yet met (None when closed or attached)."""
    pending = [due for due, done in ((case.contact_due_at, case.contact_at), (case.plan_due_at, case.plan_at),
                                     (case.follow_due_at, case.follow_at)) if due is not None and done is None]
    open_work = case.closed_at is None and case.parent_case_id is None
    case.next_due_at = min(pending) if pending and open_work else None


def set_round(case: AlertCase, sclock: SchoolClock, at: datetime) -> None:
    """Start a round of deadlines at ``at`` for the case's level."""
    dues = sclock.deadlines_for(case.level, at)
    case.round_at = at
    case.contact_due_at, case.plan_due_at = dues.get("contact"), dues.get("plan")
    case.follow_due_at = dues.get("follow")
    case.contact_at = case.plan_at = case.follow_at = None
    refresh_due(case)


def round_done(case: AlertCase) -> bool:
    return all(done is not None for due, done in ((case.contact_due_at, case.contact_at),
               (case.plan_due_at, case.plan_at), (case.follow_due_at, case.follow_at)) if due is not None)


def _event(case: AlertCase, kind: str, at: datetime, data: dict | None = None, note: str | None = None) -> dict:
    return {"case_id": case.id, "school_id": case.school_id, "at": at, "kind": kind, "account_id": None,
            "actor": None, "note": note, "data": data}


def _hits(hits: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for hit in hits:
        sid = hit.get("student_id")
        if isinstance(sid, bool) or not isinstance(sid, int):
            raise RuleError(f"alert hit {hit!r}: student_id must be an integer")
        if hit.get("level") not in (None, "red", "yellow"):
            raise RuleError(f"alert hit {hit!r}: level is red or yellow")
        out[sid] = hit  # one case per student per batch: the last hit's value wins
    return out


def _detail(hit: dict[str, Any]) -> dict | None:
    detail = dict(hit.get("detail") or {})
    if hit.get("occurrence") is not None:
        detail["occurrence"] = str(hit["occurrence"])
    return detail or None


def _is_new(case: AlertCase, hit: dict[str, Any], source: str | None, sclock: SchoolClock, at: datetime) -> bool:
    """Is this hit a new occurrence for the open case? Not when it names the occurrence the case already
    holds (e.g. the same week), nor when a scheduled scan finds the same condition again on the same school
    day — or a scan every few minutes would restart escalation forever."""
    occurrence = hit.get("occurrence")
    if occurrence is not None and (case.detail or {}).get("occurrence") == str(occurrence):
        return False
    if source == "scan" and occurrence is None:
        return sclock.local_date(case.last_triggered_at) != sclock.local_date(at)
    return True


def trigger(sess: so.Session, rule: str | dict[str, Any], *, student_id: int, school_id: int,
            level: str | None = None, value: object = None, detail: dict | None = None,
            source: str | None = None, now: datetime | None = None, occurrence: str | None = None) -> AlertCase:
    """Open a case for (student, rule), or — when one is open — raise its count and restart escalation.
    Assigns the homeroom teacher (+ the roles the rule names), sets deadlines, tells the assignees.
    ``rule`` is a registered key or a rule dict (a dynamic rule, registered on first use). ``occurrence``
    (e.g. the week) makes repeats of the same occurrence no-ops."""
    hit = {"student_id": student_id, "level": level, "value": value, "detail": detail, "occurrence": occurrence}
    return trigger_many(sess, rule, school_id, [hit], source=source, now=now)[0]


def trigger_many(sess: so.Session, rule: str | dict[str, Any] | Rule, school_id: int, hits: list[dict[str, Any]],
                 *, source: str | None = None, now: datetime | None = None) -> list[AlertCase]:
    """The batch form: ``hits`` are dicts ``{student_id, value?, detail?, level?}`` of one school. The
    engine acts for that school, whoever raised the alert (a parent's form, a plugin's event handler)."""
    with ENGINE.for_school(sess, school_id):
        return _open(sess, resolve(rule, school_id), {school_id: hits}, source=source, now=now, objects=True)


def trigger_district(sess: so.Session, rule: Rule, hits_of: dict[int, list[dict[str, Any]]], *,
                     source: str | None = None, now: datetime | None = None) -> int:
    """What :func:`trigger_many` does, for many schools' hits at once (``{school_id: hits}``, a scheduled
    scan's results): every student is checked to be in the school whose scan found it, and every row is
    written with that school's id, in one set of statements for the whole district instead of one per
    school. Returns the number of students hit (each one's case opened, re-triggered, or left as it was for
    a repeat of the same occurrence). No session objects are built (the caller is the scheduler, which
    needs none); raises as :func:`trigger_many` does (run it in a savepoint, as the scheduler does)."""
    with ENGINE.on(sess):
        done = _open(sess, rule, hits_of, source=source, now=now, objects=False)
    return len(done)


def _case_rows(sess: so.Session, part: Any, schools: list[int], rule: Rule, objects: bool) -> list[Any]:
    """The open cases of these students for the rule or its category: session objects, or plain rows."""
    where = (part, AlertCase.school_id.in_(schools), AlertCase.closed_at.is_(None),
             sa.or_(AlertCase.rule_key == rule.key, AlertCase.category == rule.category))
    if objects:
        return list(sess.scalars(sa.select(AlertCase).where(*where)))
    # JSON columns come as text and are decoded once per distinct value (10,190 re-triggered cases share
    # one rule title and a few dozen values); the rows share the decoded values, which nothing changes in place
    c = AlertCase.__table__.c
    json_cols = {k for k in _READ if isinstance(c[k].type, sa.JSON)}
    result = sess.execute(sa.select(*(sa.cast(c[k], sa.Text) if k in json_cols else c[k] for k in _READ))
                          .where(*where))
    decoded: dict[str, Any] = {}

    def load(text: str | None) -> Any:
        if text is None:
            return None
        if text not in decoded:
            decoded[text] = json.loads(text)
        return decoded[text]

    return [SimpleNamespace(**{k: load(v) if k in json_cols else v for k, v in zip(_READ, r, strict=True)})
            for r in result]


def _open(sess: so.Session, rule: Rule, hits_of: dict[int, list[dict[str, Any]]], *, source: str | None,
          now: datetime | None, objects: bool, _retry: bool = False) -> list[Any]:
    at = now or clock.now()
    by_student: dict[int, dict[str, Any]] = {}
    school_of: dict[int, int] = {}
    for school_id, hits in hits_of.items():
        for sid, hit in _hits(hits).items():
            if school_of.setdefault(sid, school_id) != school_id:
                raise RuleError(f"student {sid} is hit in schools {school_of[sid]} and {school_id}")
            by_student[sid] = hit
    if not by_student:
        return []
    ids, schools = list(by_student), sorted(set(school_of.values()))
    students: dict[int, tuple[int | None, str]] = {}
    existing: dict[int, Any] = {}
    related: list[Any] = []  # open cases of the same category (for red/yellow attachment)
    for part in in_parts(sess, Student.id, ids):
        students.update({sid: (cid, name) for sid, school, cid, name in sess.execute(
            sa.select(Student.id, Student.school_id, Student.class_id, Student.name)
            .where(part, Student.school_id.in_(schools))) if school == school_of[sid]})
    for part in in_parts(sess, AlertCase.student_id, ids):
        for case in _case_rows(sess, part, schools, rule, objects):
            if case.school_id != school_of[case.student_id]:
                continue  # a case the student left behind in another school
            if case.rule_key == rule.key:
                existing[case.student_id] = case
            else:
                related.append(case)
    if missing := [s for s in ids if s not in students]:
        raise RuleError(f"students {missing[:5]} are not in school {school_of[missing[0]]}")
    clocks = load_clocks(sess, schools)
    red_of = {c.student_id: c for c in related if c.level == "red" and c.parent_case_id is None}
    yellow_of: dict[int, list[Any]] = {}
    for c in related:
        if c.level == "yellow" and c.parent_case_id is None:
            yellow_of.setdefault(c.student_id, []).append(c)

    fresh: list[Any] = []
    new_case = AlertCase if objects else _Row
    for sid, hit in by_student.items():
        if sid in existing:
            continue
        level = hit.get("level") or rule.level
        case = new_case(
            school_id=school_of[sid], student_id=sid, class_id=students[sid][0], rule_key=rule.key,
            rule_title=rule.title, category=rule.category, level=level, sensitive=rule.sensitive, source=source,
            value=hit.get("value"), detail=_detail(hit), status="opened",
            open_key=f"{sid}:{rule.key}", count=1, opened_at=at, last_triggered_at=at, round_no=1,
            escalation_epoch=0, escalation_step=0, missed=False)
        set_round(case, clocks[case.school_id], at)
        if level == "yellow" and sid in red_of:
            case.parent_case_id = red_of[sid].id
            refresh_due(case)
        fresh.append(case)
    try:
        with sess.begin_nested():  # a concurrent trigger may open the same (student, rule) first
            _insert(sess, fresh, objects)
    except Exception as err:  # the IntegrityError of an INSERT, psycopg's UniqueViolation of a COPY
        if _retry or not (isinstance(err, sa.exc.IntegrityError) or type(err).__name__ == "UniqueViolation"):
            raise
        return _open(sess, rule, hits_of, source=source, now=at, objects=objects, _retry=True)

    event_rows: list[dict] = []
    joined: list[Any] = []  # open yellow cases that join a new red one
    for case in fresh:
        event_rows.append(_event(case, "opened", at, {"value": case.value, "level": case.level, "source": source}))
        if case.parent_case_id is not None:
            event_rows.append(_event(red_of[case.student_id], "attached", at, {"case_id": case.id,
                                                                                "rule": rule.key}))
        elif case.level == "red":
            for y in yellow_of.get(case.student_id, []):  # yellow work of this category joins the red case
                y.parent_case_id = case.id
                refresh_due(y)
                joined.append(y)
                event_rows.append(_event(y, "attached", at, {"to_case_id": case.id}))
                event_rows.append(_event(case, "attached", at, {"case_id": y.id, "rule": y.rule_key}))
    classes_of: dict[int, set[int | None]] = {}
    for case in fresh:
        classes_of.setdefault(case.school_id, set()).add(case.class_id)
    found = assign.holders_many(sess, rule.assign, classes_of)
    assignee_rows, told = [], {}
    for case in fresh:
        people = assign.for_case(found[case.school_id], rule.assign, case.class_id)
        assignee_rows += [{"case_id": case.id, "account_id": a, "role": r, "reason": "assigned", "at": at}
                          for a, r in people]
        told[case.id] = [a for a, _ in people]
    bulk_insert(sess, AlertAssignee, assignee_rows)

    again = [existing[s] for s in by_student if s in existing and _is_new(existing[s], by_student[s], source,
                                                                           clocks[school_of[s]], at)]
    _retrigger(sess, again, by_student, clocks, at, objects)
    for case in again:
        event_rows.append(_event(case, "retriggered", at, {"count": case.count, "value": case.value,
                                                           "round": case.round_no, "level": case.level}))
    if objects:
        sess.flush()  # the attachments of open yellow cases above, before their timeline rows
    else:
        update_rows(sess, AlertCase.__table__, [{"id": y.id, "parent_case_id": y.parent_case_id,
                                                 "next_due_at": y.next_due_at} for y in joined])
    bulk_insert(sess, AlertEvent, event_rows)
    _tell(sess, fresh, again, told, students, clocks)
    order = {**existing, **{c.student_id: c for c in fresh}}  # a repeat of the same occurrence: as it was
    return [order[s] for s in by_student]


class _Row(SimpleNamespace):
    """A case as plain values (the district pass): every column, None where not given."""

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_BLANK, **values})


_COLUMNS = [c.key for c in AlertCase.__table__.c if c.key != "id"]
_BLANK = dict.fromkeys(["id", *_COLUMNS])
# what a re-trigger may change (all written for every re-triggered case: one statement for the batch)
_AGAIN = ["count", "last_triggered_at", "value", "detail", "level", "parent_case_id", "round_no", "status",
          "round_at", "contact_due_at", "plan_due_at", "follow_due_at", "contact_at", "plan_at", "follow_at",
          "next_due_at", "escalation_epoch", "escalation_step", "last_escalated_at"]
# what the district batch reads of open cases (plain rows: reading anything else raises, and the scheduler
# then writes school by school)
_READ = ["id", "school_id", "student_id", "class_id", "rule_key", "rule_title", "category", "closed_at", *_AGAIN]


def _insert(sess: so.Session, fresh: list[Any], objects: bool) -> None:
    """The new cases in one COPY (PostgreSQL) or multi-row INSERT; session objects then join the session
    as loaded rows, as if flushed (plain rows get their ids)."""
    rows = [{k: getattr(case, k) for k in _COLUMNS} for case in fresh]
    insert_ids(sess, AlertCase.__table__, rows)
    for case, row in zip(fresh, rows, strict=True):
        if not objects:
            case.id = row["id"]
            continue
        for k, v in row.items():
            if k not in case.__dict__:
                setattr(case, k, v)
        so.make_transient_to_detached(case)
        sess.add(case)


def _retrigger(sess: so.Session, again: list[Any], by_student: dict[int, dict[str, Any]],
               clocks: dict[int, SchoolClock], at: datetime, objects: bool) -> None:
    """Count + 1, the value, a new round when the last one's work was done or the news got worse, and the
    escalation restarted — worked out per case, written in one UPDATE for the batch."""
    rows = []
    for case in again:
        hit = by_student[case.student_id]
        c = SimpleNamespace(**{k: getattr(case, k) for k in _AGAIN}, closed_at=case.closed_at)
        c.count += 1
        c.last_triggered_at, c.value = at, hit.get("value")
        c.detail = _detail(hit) or c.detail
        upgraded = hit.get("level") == "red" and c.level == "yellow"
        if upgraded:
            c.level, c.parent_case_id = "red", None  # red work stands on its own
        if upgraded or round_done(c):  # a repeat after the work was done (or worse news): a new round
            c.round_no += 1
            c.status = "opened"
            set_round(c, clocks[case.school_id], at)
        c.escalation_epoch += 1  # a re-triggered case restarts its escalation chain
        c.escalation_step, c.last_escalated_at = 0, None
        rows.append({"id": case.id, **{k: getattr(c, k) for k in _AGAIN}})
    update_rows(sess, AlertCase.__table__, rows)
    for case, row in zip(again, rows, strict=True):
        for k in _AGAIN:
            if objects:
                so.attributes.set_committed_value(case, k, row[k])
            else:
                setattr(case, k, row[k])


def _due_text(case: AlertCase, sclock: SchoolClock) -> str:
    if case.next_due_at is None:
        return ""
    from datetime import UTC

    return case.next_due_at.replace(tzinfo=UTC).astimezone(sclock.tz).strftime("%Y-%m-%d %H:%M")


def _tell(sess: so.Session, fresh: list[Any], again: list[Any], told: dict[int, list[int]],
          students: dict[int, tuple[int | None, str]], clocks: dict[int, SchoolClock]) -> None:
    """Messages to the assignees (not for work attached to a red case) and the bus events. Cases of one
    school and batch that go to the same people share one message (a digest), so a scan does not flood a
    teacher."""
    for part in in_parts(sess, AlertAssignee.case_id, [c.id for c in again]):
        for case_id, account in sess.execute(sa.select(AlertAssignee.case_id, AlertAssignee.account_id)
                                             .where(part)):
            told.setdefault(case_id, []).append(account)
    specs: list[dict | None] = []
    for kind, cases in (("opened", fresh), ("retriggered", again)):
        groups: dict[tuple[int, tuple[int, ...]], list[Any]] = {}
        for case in cases:
            if case.parent_case_id is None:
                groups.setdefault((case.school_id, tuple(sorted(set(told.get(case.id, []))))), []).append(case)
        for (school, accounts), group in groups.items():
            sclock = clocks[school]
            if len(group) == 1:
                case = group[0]
                key = f"alert:{case.id}:opened" if kind == "opened" else f"alert:{case.id}:again:{case.count}"
                specs.append(notify.message_spec(f"alert.case.{kind}", case, list(accounts), dedupe_key=key,
                                                 student_name=students[case.student_id][1],
                                                 due=_due_text(case, sclock)))
                continue
            ids = ",".join(f"{c.id}:{c.count}" for c in group)
            specs.append(notify.digest_spec(
                group, list(accounts), names=[students[c.student_id][1] for c in group],
                due=_due_text(min(group, key=lambda c: c.next_due_at or datetime.max), sclock),
                dedupe_key=f"alert:digest:{hashlib.sha1(ids.encode()).hexdigest()}"))
    notify.tell(sess, specs)
    notify.publish("opened", fresh)
    notify.publish("retriggered", again)
