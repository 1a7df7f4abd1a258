"""Automatic school scoping, in one place.

Every ORM SELECT in a session gets ``with_loader_criteria`` for each tenant-scoped model, built from
the session's :class:`Scope` (``session.info["scope"]``). A session without a scope sees nothing
(fail closed). The only bypasses are greppable: the execution option ``ALL_SCHOOLS`` on one statement,
and :func:`system_session` for CLI commands and background jobs that act for the district itself.
Writes are checked in ``before_flush``: a session may only write rows of schools it reaches.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base

ALL_SCHOOLS = {"jizuo_all_schools": True}
_SYSTEM = "jizuo_system"


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


EMPTY = Scope()


class TenancyError(RuntimeError):
    """A write reached outside the session's scope: a programming error, never a user error."""


def set_scope(sess: so.Session, scope: Scope) -> None:
    sess.info["scope"] = scope


def get_scope(sess: so.Session) -> Scope:
    return sess.info.get("scope", EMPTY)


def mark_system(sess: so.Session) -> so.Session:
    """Unscoped session for the district's own work (CLI, migrations, demo, workers)."""
    sess.info[_SYSTEM] = True
    return sess


@contextmanager
def system_session(bind: sa.Engine) -> Iterator[so.Session]:
    with so.Session(bind=bind, expire_on_commit=False) as sess:
        mark_system(sess)
        yield sess


@contextmanager
def district_operation(sess: so.Session) -> Iterator[so.Session]:
    """An explicit district-level write that spans schools (e.g. creating a school). The caller has
    checked ``district.cross_school`` and records the operation in the audit log."""
    before = sess.info.get(_SYSTEM)
    sess.info[_SYSTEM] = True
    try:
        yield sess
    finally:
        sess.info[_SYSTEM] = before


def scoped_models() -> list[type]:
    """Every mapped class that declares ``tenant_criteria`` (the core's and plugins')."""
    return list(_scoped_models(len(Base.registry.mappers)))


@lru_cache(maxsize=8)
def _scoped_models(_n_mappers: int) -> tuple[type, ...]:
    # keyed on the number of mappers, so a plugin's models registered later are picked up
    return tuple(m.class_ for m in Base.registry.mappers if hasattr(m.class_, "tenant_criteria"))


@lru_cache(maxsize=4096)
def _criteria_options(scope: Scope, _n_mappers: int) -> tuple[Any, ...]:
    """The loader-criteria options of one scope, built once (Scope is frozen and hashable)."""
    return tuple(
        so.with_loader_criteria(cls, cls.tenant_criteria(scope), include_aliases=True)
        for cls in _scoped_models(_n_mappers)
    )


@sa.event.listens_for(so.Session, "do_orm_execute")
def _add_tenant_criteria(state: so.ORMExecuteState) -> None:
    if state.session.info.get(_SYSTEM) or state.execution_options.get("jizuo_all_schools"):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # criteria added to the parent statement propagate to these loads
    scope = get_scope(state.session)
    state.statement = state.statement.options(*_criteria_options(scope, len(Base.registry.mappers)))


@sa.event.listens_for(so.Session, "before_flush")
def _check_writes(sess: so.Session, _ctx, _instances) -> None:
    if sess.info.get(_SYSTEM):
        return
    allowed = get_scope(sess).school_ids
    for obj in list(sess.new) + list(sess.dirty) + list(sess.deleted):
        school_id = getattr(obj, "school_id", None)
        if hasattr(type(obj), "tenant_criteria") and school_id is not None and school_id not in allowed:
            raise TenancyError(f"write to school {school_id} outside scope {sorted(allowed)}")
