"""Writing a scope into SQL statements (used by :mod:`foundation.tenancy`'s listener).

A *scoped table* is the table of a mapped class that declares ``tenant_criteria(scope)`` (the core's models
on ``SchoolScoped``, ``Guardian``, and plugins' models on the ``SchoolScoped`` base that
``foundation.plugin_api`` exports). For a statement that reads one, every SELECT in it, nested ones included,
gets the table's criteria:

- in its WHERE clause, for the tables it selects FROM (the left-most table of each join chain);
- in the ON clause, for a table joined in (so that an outer join stays an outer join);
- an outer join to a scoped table with no ON clause cannot be scoped and is refused.

UPDATE and DELETE get their target's criteria; INSERT and UPDATE values naming a school out of reach are
refused. ORM entities also get ``with_loader_criteria`` (see :func:`loader_criteria`), which reaches the
relationship loads the ORM adds at compile time.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter, ClauseList, Grouping
from sqlalchemy.sql.util import ClauseAdapter

from foundation.db import Base


class TenancyError(RuntimeError):
    """A statement reached outside the session's scope, or in a shape the platform cannot scope: a
    programming error, never a user error. (``foundation.tenancy.TenancyError``.)"""


_registries: list[so.registry] = [Base.registry]
_mappers = [0]  # bumped when any mapper is configured: the caches below are keyed on it


@sa.event.listens_for(so.Mapper, "after_mapper_constructed")
def _new_mapper(_mapper: so.Mapper, _cls: type) -> None:
    _mappers[0] += 1


def register(registry: so.registry) -> None:
    """Scope the models of another declarative registry too (a plugin's own base)."""
    if registry not in _registries:
        _registries.append(registry)
        _mappers[0] += 1


def _mapper_count() -> int:
    return _mappers[0]


def scoped_models() -> tuple[type, ...]:
    """Every mapped class that declares ``tenant_criteria`` (the core's and plugins')."""
    return _scoped(_mapper_count())


@lru_cache(maxsize=8)
def _scoped(_n: int) -> tuple[type, ...]:
    # keyed on the number of mappers, so models registered later (a plugin's) are picked up
    return tuple(m.class_ for r in _registries for m in r.mappers if hasattr(m.class_, "tenant_criteria"))


@lru_cache(maxsize=8)
def _by_table(_n: int) -> dict[str, type]:
    return {cls.__table__.name: cls for cls in _scoped(_n)}


def scoped_tables() -> dict[str, type]:
    """Table name → the model whose ``tenant_criteria`` scopes it."""
    return _by_table(_mapper_count())


def loader_criteria(scope: Any, mappers: Any = None) -> tuple[Any, ...]:
    """``with_loader_criteria`` options for the scoped models an ORM statement of ``mappers`` can load: those
    entities and every model their relationships reach (eager and lazy loads inherit the options)."""
    if mappers is None:
        return _loader_criteria(scope, _mapper_count())
    return _loader_criteria_for(scope, frozenset(m.class_ for m in mappers), _mapper_count())


@lru_cache(maxsize=1024)
def _reachable(classes: frozenset[type], _n: int) -> tuple[type, ...]:
    seen, todo = set(), [so.class_mapper(c) for c in classes]
    while todo:
        mapper = todo.pop()
        if mapper in seen:
            continue
        seen.add(mapper)
        todo.extend(rel.mapper for rel in mapper.relationships)
    return tuple(m.class_ for m in seen if hasattr(m.class_, "tenant_criteria"))


@lru_cache(maxsize=4096)
def _loader_criteria_for(scope: Any, classes: frozenset[type], n: int) -> tuple[Any, ...]:
    return tuple(so.with_loader_criteria(cls, cls.tenant_criteria(scope), include_aliases=True)
                 for cls in _reachable(classes, n))


@lru_cache(maxsize=4096)
def _loader_criteria(scope: Any, n: int) -> tuple[Any, ...]:
    """The loader-criteria options of one scope, built once (Scope is frozen and hashable)."""
    return tuple(so.with_loader_criteria(cls, cls.tenant_criteria(scope), include_aliases=True)
                 for cls in _scoped(n))


@lru_cache(maxsize=4096)
def _table_criteria(cls: type, scope: Any) -> sa.ColumnElement[bool]:
    # on the plain table's columns: the ORM's annotated copies would count as a second FROM of the same table
    return ClauseAdapter(cls.__table__).traverse(cls.tenant_criteria(scope))


def _table_of(frm: Any) -> sa.TableClause | None:
    """The table behind a FROM element that is a table or a plain alias of one (not a subquery)."""
    if isinstance(frm, sa.TableClause):
        return frm
    if isinstance(frm, sa.Alias) and not isinstance(frm, sa.Subquery | sa.CTE) \
            and isinstance(frm.element, sa.TableClause):
        return frm.element
    return None


def _criteria(frm: Any, scope: Any, tables: dict[str, type], many: bool = False) -> sa.ColumnElement[bool] | None:
    table = _table_of(frm)
    cls = tables.get(table.name) if table is not None else None
    if cls is None:
        return None
    crit = _table_criteria(cls, scope)
    if isinstance(frm, sa.Alias):
        crit = ClauseAdapter(frm).traverse(crit)
    return visitors.replacement_traverse(crit, {}, _fixed_in) if many else crit


def _fixed_in(el: Any) -> Any:
    """``IN (…)`` with one bound value per id instead of an expanding list, which executemany cannot take."""
    if isinstance(el, BindParameter) and el.expanding:
        values = sorted(el.value or ())
        return Grouping(ClauseList(*[sa.literal(v) for v in values])) if values else Grouping(sa.null())
    return None


def _spine(frm: Any) -> list[Any]:
    """The left-most element of a join chain (what a SELECT's WHERE filters); joined-in tables are
    filtered in their join's ON clause."""
    while isinstance(frm, sa.Join):
        frm = frm.left
    return [frm]


def _joined_in(frm: Any) -> set[str]:
    """Names of the elements a Join brings in on its right-hand sides (its left-most one excluded)."""
    out: set[str] = set()
    while isinstance(frm, sa.Join):
        right = frm.right
        out |= {_key(right)} if not isinstance(right, sa.Join) else ({_key(_spine(right)[0])} | _joined_in(right))
        frm = frm.left
    return out


def _key(frm: Any) -> str:
    """A FROM element's name in the statement (the alias's, else the table's)."""
    return getattr(frm, "name", None) or str(id(frm))


def _direct_froms(sel: sa.Select) -> list[Any]:
    """The FROM elements a SELECT reads itself (explicit ones, and those its columns and WHERE name),
    without asking the compiler; tables only inside a nested SELECT are that SELECT's own."""
    out: list[Any] = list(sel._from_obj)
    for part in (*sel._raw_columns, *sel._where_criteria):
        out.extend(getattr(part, "_from_objects", ()))
    return out


def _touches(stmt: Any, tables: dict[str, type]) -> bool:
    return _survey(stmt, tables)[0]


_NESTED = (sa.Select, sa.CompoundSelect, sa.Subquery, sa.CTE, sa.Join, sa.Exists, sa.ScalarSelect)
_KINDS: dict[type, tuple[bool, bool]] = {}  # element class → (nests a statement, may be a table or its alias)


def _kind(cls: type) -> tuple[bool, bool]:
    kind = _KINDS[cls] = (issubclass(cls, _NESTED), issubclass(cls, sa.TableClause | sa.Alias))
    return kind


def _survey(stmt: Any, tables: dict[str, type]) -> tuple[bool, bool]:
    """(does ``stmt`` read a scoped table, must it be walked in depth): the depth is needed for nested
    SELECTs, subqueries, CTEs and explicit Join objects; a flat statement is scoped on a shallow copy.
    Every element is looked at (most are columns and bound values: one dict lookup of their class each)."""
    touches = deep = False
    for el in visitors.iterate(stmt):
        nested, tableish = _KINDS.get(type(el)) or _kind(type(el))
        if nested and el is not stmt:
            deep = True
        if tableish and not touches:
            table = _table_of(el)
            touches = table is not None and table.name in tables
        if touches and deep:
            break  # both known: the rest of the walk cannot change either
    return touches, deep


def scope_statement(stmt: Any, scope: Any, parameters: Any = None) -> Any:
    """``stmt`` with ``scope`` written into it (a new statement), or ``stmt`` itself when it reads no
    scoped table. Raises TenancyError for writes out of reach and shapes that cannot be scoped."""
    tables = scoped_tables()
    touches, deep = _survey(stmt, tables)
    if not touches:
        return stmt
    if isinstance(stmt, sa.Insert | sa.Update):
        _check_values(stmt, scope, parameters, tables)
    many = isinstance(parameters, list | tuple) and len(parameters) > 1  # executemany: no expanding IN

    def visit_join(join: sa.Join) -> None:
        for frm in _spine(join.right):
            crit = _criteria(frm, scope, tables)
            if crit is not None:
                join.onclause = sa.and_(join.onclause, crit) if join.onclause is not None else crit

    def visit_select(sel: sa.Select) -> None:
        extra, joined = [], set()
        rewritten, changed = [], False
        for target, onclause, from_, flags in sel._setup_joins:
            crit = _criteria(target, scope, tables)
            if crit is None:
                rewritten.append((target, onclause, from_, flags))
                continue
            joined.add(_key(target))
            if flags.get("full"):
                raise _refuse("a FULL OUTER JOIN of scoped tables")
            if not flags.get("isouter"):
                extra.append(crit)  # an inner join: the same rows whether it filters in ON or in WHERE
            elif not isinstance(onclause, sa.ColumnElement):
                raise _refuse(f"an outer join to {_table_of(target).name} needs an explicit ON clause")
            else:
                # the criteria join the ON clause, so the join stays outer; its left side is named, since
                # a subquery in ON keeps the compiler from working it out
                left = from_ if from_ is not None else next(
                    (f for f in _direct_froms(sel) if _key(f) != _key(target)), None)
                onclause, from_, changed = sa.and_(onclause, crit), left, True
            rewritten.append((target, onclause, from_, flags))
        if changed:
            sel._setup_joins = tuple(rewritten)
        for frm in sel._from_obj:  # tables joined in an explicit Join are filtered in its ON (visit_join)
            joined |= _joined_in(frm)
        seen = set()
        for frm in _direct_froms(sel):
            if isinstance(frm, sa.Join) and frm.full:
                raise _refuse("a FULL OUTER JOIN of scoped tables")
            for left in _spine(frm):
                key = _key(left)
                if key in joined or key in seen:
                    continue  # filtered in its join's ON clause, or already
                seen.add(key)
                crit = _criteria(left, scope, tables)
                if crit is not None:
                    extra.append(crit)
        if extra:
            sel._where_criteria += tuple(extra)

    def visit_dml(dml: Any) -> None:
        for part in (*dml._where_criteria, *(getattr(dml, "_values", None) or {}).values()):
            for frm in getattr(part, "_from_objects", ()):
                if isinstance(frm, sa.Subquery | sa.CTE) and _touches(frm.element, tables):
                    # UPDATE … FROM (SELECT …): the subquery is not reached through the statement's own
                    # parts, so it could not be scoped; read it first, then write by key
                    raise _refuse(f"an {type(dml).__name__.upper()} that reads a subquery of scoped tables")
        crit = _criteria(dml.table, scope, tables, many)
        if crit is not None:
            dml._where_criteria += (crit,)

    if not deep and isinstance(stmt, sa.Select | sa.Update | sa.Delete):
        flat = stmt._generate()  # a shallow copy: the visits only replace its tuples of criteria
        (visit_select if isinstance(stmt, sa.Select) else visit_dml)(flat)
        return flat
    return visitors.cloned_traverse(stmt, {}, {"select": visit_select, "join": visit_join,
                                               "update": visit_dml, "delete": visit_dml})


def _refuse(what: str) -> Exception:
    return TenancyError(f"{what} cannot be scoped to schools: rewrite it, or use unscoped(reason)")


def _check_values(stmt: Any, scope: Any, parameters: Any, tables: dict[str, type]) -> None:
    """INSERT or UPDATE values that name a school outside ``scope``."""
    table = _table_of(stmt.table)
    if table is None or table.name not in tables or "school_id" not in table.c:
        return
    values: list[Any] = []
    for key, value in (stmt._values or {}).items():
        if getattr(key, "key", key) == "school_id":
            values.append(getattr(value, "value", value))
    for batch in getattr(stmt, "_multi_values", ()) or ():
        for row in batch:
            if isinstance(row, dict):
                values.extend(v for k, v in row.items() if getattr(k, "key", k) == "school_id")
    rows = parameters if isinstance(parameters, list | tuple) else [parameters] if parameters else []
    values.extend(r["school_id"] for r in rows if isinstance(r, dict) and "school_id" in r)
    for value in values:
        if isinstance(value, int) and value not in scope.school_ids:
            raise TenancyError(f"write to school {value} outside scope {sorted(scope.school_ids)}")
