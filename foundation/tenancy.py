"""Automatic school scoping, in one place, for every statement a session runs.

Each statement executed through a :class:`~sqlalchemy.orm.Session` is scoped from the session's
:class:`Scope` (``session.info["scope"]``), whatever its spelling:

- ORM entities get ``with_loader_criteria`` (which also reaches eager and lazy relationship loads);
- every SELECT, also Core ones on ``Model.__table__`` and those nested in subqueries, CTEs and EXISTS, gets
  the scoped tables it reads filtered in its own WHERE (or in the ON clause of an outer join), by
  :mod:`foundation.tenancy_sql`;
- Core UPDATE and DELETE get their target filtered; INSERT values naming a school out of reach are refused;
- raw SQL text is refused.

A session without a scope sees nothing (fail closed). The one bypass is :func:`unscoped`, which always
names its reason, so that ``grep 'unscoped('`` lists every place that crosses schools (a test counts them
against an allow-list). Writes of ORM objects are checked in ``before_flush``.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation import tenancy_sql
from foundation.tenancy_sql import TenancyError

log = logging.getLogger("jizuo.tenancy")
_OPTION = "jizuo_unscoped"  # the execution option that carries a bypass's reason
_SESSION = "jizuo_unscoped"  # session.info key: this session acts for the district itself, and why
_ACTING = "jizuo_acting_for"  # session.info key: the platform acts for this one school (for_school)


@dataclass(frozen=True)
class Scope:
    """What one principal reaches. ``school_ids``: schools whose structure and staff are visible;
    ``full_school_ids``: schools whose every student is visible; ``class_ids`` / ``student_ids``:
    narrower student reach (own classes, own children, oneself)."""

    school_ids: frozenset[int] = field(default_factory=frozenset)
    full_school_ids: frozenset[int] = field(default_factory=frozenset)
    class_ids: frozenset[int] = field(default_factory=frozenset)
    student_ids: frozenset[int] = field(default_factory=frozenset)
    guardian_ids: frozenset[int] = field(default_factory=frozenset)
    district_level: bool = False

    @classmethod
    def school(cls, school_id: int) -> Scope:
        """The whole of one school: what the platform acts with for that school (events, jobs, scans)."""
        one = frozenset({school_id})
        return cls(school_ids=one, full_school_ids=one)


EMPTY = Scope()


def one_of(column: Any, ids: frozenset[int]) -> sa.ColumnElement[bool]:
    """``column IN ids`` as the criteria write it: ``=`` for one id (a school's own scope: cheaper to plan
    and to bind), false for none."""
    if not ids:
        return sa.false()
    if len(ids) == 1:
        return column == next(iter(ids))
    return column.in_(sorted(ids))


def set_scope(sess: so.Session, scope: Scope) -> None:
    sess.info["scope"] = scope


def get_scope(sess: so.Session) -> Scope:
    return sess.info.get("scope", EMPTY)


def _narrowed(sess: so.Session, school_id: int) -> Scope:
    """The session's reach within one school: never more than it had (a session acting for the whole
    district, unscoped, narrows to that school)."""
    if sess.info.get(_SESSION):
        return Scope.school(school_id)
    s, one = get_scope(sess), frozenset({school_id})
    return Scope(school_ids=s.school_ids & one, full_school_ids=s.full_school_ids & one, class_ids=s.class_ids,
                 student_ids=s.student_ids, guardian_ids=s.guardian_ids)


def narrow(sess: so.Session, school_id: int) -> None:
    """From now on the session sees one school only (of what it reached): a request that has resolved the
    school it acts for. It can only take reach away, so it is no bypass."""
    scope = _narrowed(sess, school_id)
    sess.info.pop(_SESSION, None)
    sess.info["scope"] = scope


@contextmanager
def narrowed(sess: so.Session, school_id: int) -> Iterator[so.Session]:
    """:func:`narrow` for a block, then the session's own reach again."""
    before_scope, before_mark = sess.info.get("scope"), sess.info.get(_SESSION)
    narrow(sess, school_id)
    try:
        yield sess
    finally:
        if before_scope is None:
            sess.info.pop("scope", None)
        else:
            sess.info["scope"] = before_scope
        if before_mark is not None:
            sess.info[_SESSION] = before_mark


@contextmanager
def scoped_to(sess: so.Session, scope: Scope) -> Iterator[so.Session]:
    """Run a block with ``scope`` (e.g. :meth:`Scope.school`), then restore the session's own."""
    before = sess.info.get("scope")
    sess.info["scope"] = scope
    try:
        yield sess
    finally:
        if before is None:
            sess.info.pop("scope", None)
        else:
            sess.info["scope"] = before


class unscoped(Mapping[str, Any]):  # noqa: N801 - reads as the verb it is at every call site
    """The one bypass of school scoping. ``reason`` says why this place may cross schools; it is logged
    at debug level and shown by the bypass census (tests/test_tenancy_bypasses.py).

    - as execution options, for one statement: ``sess.execute(stmt, execution_options=unscoped("why"))``
    - for a block of a session: ``with unscoped("why").on(sess): ...``
    - for a whole session a command or worker opens for the district: ``unscoped("why").mark(sess)``
    - a new session: ``with unscoped("why").session(engine) as sess: ...``
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        if not isinstance(reason, str) or len(reason.strip()) < 3:
            raise TypeError("unscoped() needs the reason this place crosses schools")
        self.reason = reason

    # the Mapping protocol: {"jizuo_unscoped": reason}
    def __getitem__(self, key: str) -> Any:
        if key != _OPTION:
            raise KeyError(key)
        return self.reason

    def __iter__(self) -> Iterator[str]:
        return iter((_OPTION,))

    def __len__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return f"unscoped({self.reason!r})"

    def mark(self, sess: so.Session) -> so.Session:
        sess.info[_SESSION] = self.reason
        return sess

    @contextmanager
    def on(self, sess: so.Session) -> Iterator[so.Session]:
        before = sess.info.get(_SESSION)
        sess.info[_SESSION] = self.reason
        try:
            yield sess
        finally:
            if before is None:
                sess.info.pop(_SESSION, None)
            else:
                sess.info[_SESSION] = before

    @contextmanager
    def session(self, bind: sa.Engine) -> Iterator[so.Session]:
        with so.Session(bind=bind, expire_on_commit=False) as sess:
            yield self.mark(sess)

    @contextmanager
    def for_school(self, sess: so.Session, school_id: int) -> Iterator[so.Session]:
        """The platform acts for one whole school, whoever caused it (an event's subscribers, an alert rule's
        scan, the alert engine opening a case a parent's form raised): the block sees that school and
        nothing else, also in a session that was unscoped. Flush inside the block; the session's own
        scope comes back after it."""
        before_scope, before_mark = sess.info.get("scope"), sess.info.pop(_SESSION, None)
        before_acting = sess.info.get(_ACTING)
        sess.info["scope"], sess.info[_ACTING] = Scope.school(school_id), school_id
        try:
            yield sess
            sess.flush()
        finally:
            if before_scope is None:
                sess.info.pop("scope", None)
            else:
                sess.info["scope"] = before_scope
            if before_mark is not None:
                sess.info[_SESSION] = before_mark
            if before_acting is None:
                sess.info.pop(_ACTING, None)
            else:
                sess.info[_ACTING] = before_acting


def is_unscoped(sess: so.Session) -> bool:
    return bool(sess.info.get(_SESSION))


def acting_for(sess: so.Session) -> int | None:
    """The school the platform acts for in this block of the session (:meth:`unscoped.for_school`), if any:
    a job, a scan, an event's delivery, rather than a person's own request."""
    return sess.info.get(_ACTING)


@sa.event.listens_for(so.Session, "do_orm_execute")
def _scope_statement(state: so.ORMExecuteState) -> None:
    reason = state.session.info.get(_SESSION) or state.execution_options.get(_OPTION)
    if reason:
        log.debug("unscoped statement (%s)", reason)
        return
    if state.is_column_load or state.is_relationship_load:
        return  # criteria added to the parent statement propagate to these loads
    stmt = state.statement
    scope = get_scope(state.session)
    if isinstance(stmt, sa.TextClause):
        raise TenancyError("raw SQL text cannot be scoped to schools: use a select, or unscoped(reason)")
    if not (state.is_select or state.is_update or state.is_delete or state.is_insert):
        return
    stmt = tenancy_sql.scope_statement(stmt, scope, state.parameters)
    if state.is_orm_statement and not state.is_insert:
        stmt = stmt.options(*tenancy_sql.loader_criteria(scope, state.all_mappers))
    state.statement = stmt


@sa.event.listens_for(so.Session, "before_flush")
def _check_writes(sess: so.Session, _ctx, _instances) -> None:
    if sess.info.get(_SESSION):
        return
    allowed = get_scope(sess).school_ids
    for obj in list(sess.new) + list(sess.dirty) + list(sess.deleted):
        school_id = getattr(obj, "school_id", None)
        if hasattr(type(obj), "tenant_criteria") and school_id is not None and school_id not in allowed:
            raise TenancyError(f"write to school {school_id} outside scope {sorted(allowed)}")
