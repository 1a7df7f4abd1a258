"""The tenancy layer itself: fail closed, narrow by class and child, refuse writes outside scope."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import OrgUnit, Student
from foundation.tenancy import Scope, TenancyError, set_scope, unscoped

ALL = unscoped("test: the whole district, to compare with")


@pytest.fixture
def sess(app):
    with so.Session(app.extensions["jizuo.engine"]) as s:
        yield s


def _schools(sess) -> list[int]:
    return sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school"), execution_options=ALL))


def test_each_scope_sees_exactly_its_reach(sess):
    a, b = _schools(sess)
    set_scope(sess, Scope(school_ids=frozenset({a}), full_school_ids=frozenset({a})))
    assert {s.school_id for s in sess.scalars(sa.select(Student))} == {a}
    one_class = sess.scalar(sa.select(Student.class_id))
    set_scope(sess, Scope(school_ids=frozenset({a}), class_ids=frozenset({one_class})))
    assert {s.class_id for s in sess.scalars(sa.select(Student))} == {one_class}
    kid = sess.scalar(sa.select(Student.id))
    set_scope(sess, Scope(school_ids=frozenset({a}), student_ids=frozenset({kid})))
    assert [s.id for s in sess.scalars(sa.select(Student))] == [kid]
    # counts and joins are scoped as well, not only entity loads
    assert sess.scalar(sa.select(sa.func.count(Student.id))) == 1
    total = sess.scalar(sa.select(sa.func.count(Student.id)), execution_options=ALL)
    assert total > 1


def test_writes_outside_the_scope_are_refused(sess):
    a, b = _schools(sess)
    set_scope(sess, Scope(school_ids=frozenset({a}), full_school_ids=frozenset({a})))
    other = sess.scalar(sa.select(Student).where(Student.school_id == b), execution_options=ALL)
    other.name = "越权修改"
    with pytest.raises(TenancyError):
        sess.flush()
    sess.rollback()
    klass = sess.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "class", OrgUnit.school_id == b),
                        execution_options=ALL)
    sess.add(Student(school_id=b, student_no="Z1", name="越权", sex_code="1", ethnicity_code="01", class_id=klass.id))
    with pytest.raises(TenancyError):
        sess.flush()


def test_orm_bulk_update_is_scoped_too(sess):
    a, b = _schools(sess)
    set_scope(sess, Scope(school_ids=frozenset({a}), full_school_ids=frozenset({a})))
    sess.execute(sa.update(Student).values(boarding=True))
    flagged = sess.execute(sa.select(Student.school_id, Student.boarding), execution_options=ALL).all()
    assert all(boarding for school, boarding in flagged if school == a)
    assert not any(boarding for school, boarding in flagged if school == b) or \
        sess.scalar(sa.select(sa.func.count()).where(Student.school_id == b, Student.boarding.is_(False)),
                    execution_options=ALL) > 0
    sess.rollback()


# -- Core statements: the same scope, whatever the spelling ------------------------------------------------

S, OU = Student.__table__, OrgUnit.__table__


def _one_class(sess, school: int) -> int:
    return sess.scalar(sa.select(Student.class_id).where(Student.school_id == school).limit(1), execution_options=ALL)


def test_core_selects_on_tables_are_scoped_like_entities(sess):
    a, b = _schools(sess)
    everyone = sess.scalar(sa.select(sa.func.count()).select_from(S), execution_options=ALL)
    set_scope(sess, Scope(school_ids=frozenset({a}), full_school_ids=frozenset({a})))
    assert set(sess.scalars(sa.select(S.c.school_id).distinct())) == {a}
    # nested: a subquery, EXISTS, an IN (select) and a CTE see the scope too
    sub = sa.select(S.c.id).subquery()
    assert sess.scalar(sa.select(sa.func.count()).select_from(sub)) < everyone
    in_b = sa.select(S.c.id).where(S.c.school_id == b)
    assert sess.scalar(sa.select(sa.func.count()).select_from(S).where(S.c.id.in_(in_b))) == 0
    assert sess.scalar(sa.select(sa.exists().where(S.c.school_id == b))) is False
    cte = sa.select(S.c.id, S.c.school_id).cte("kids")
    assert set(sess.scalars(sa.select(cte.c.school_id).distinct())) == {a}
    # an alias of the table, and a join between two scoped tables
    alias = S.alias("s2")
    assert set(sess.scalars(sa.select(alias.c.school_id).distinct())) == {a}
    joined = sess.execute(sa.select(S.c.id, OU.c.school_id).join(OU, OU.c.id == S.c.class_id)).all()
    assert joined and {school for _, school in joined} == {a}


def test_core_outer_join_stays_outer_and_scoped(sess):
    a, b = _schools(sess)
    klass = _one_class(sess, a)
    set_scope(sess, Scope(school_ids=frozenset({a}), class_ids=frozenset({klass})))
    # classes of the school, each with its students in reach: the other classes stay, with no student
    rows = sess.execute(sa.select(OU.c.id, S.c.id).select_from(OU).outerjoin(S, S.c.class_id == OU.c.id)
                        .where(OU.c.kind == "class")).all()
    assert {c for c, s in rows if s is not None} == {klass}
    assert len({c for c, _ in rows}) > 1  # the outer join still yields classes with no student in reach
    assert {s for _, s in rows if s is not None} == set(sess.scalars(sa.select(Student.id)))
    # the explicit Join object form too
    rows = sess.execute(sa.select(OU.c.id, S.c.id).select_from(sa.outerjoin(OU, S, S.c.class_id == OU.c.id))
                        .where(OU.c.kind == "class")).all()
    assert {c for c, s in rows if s is not None} == {klass} and len({c for c, _ in rows}) > 1
    with pytest.raises(TenancyError):  # an outer join with no ON clause cannot be scoped: refused
        sess.execute(sa.select(OU.c.id).select_from(OU).outerjoin(S))


def test_core_writes_are_scoped_or_refused(sess):
    a, b = _schools(sess)

    def boarding_in(school: int) -> tuple[int, int]:
        return tuple(sess.execute(sa.select(sa.func.count(), sa.func.count().filter(S.c.boarding.is_(True)))
                                  .where(S.c.school_id == school), execution_options=ALL).one())

    before = boarding_in(b)
    set_scope(sess, Scope(school_ids=frozenset({a}), full_school_ids=frozenset({a})))
    sess.execute(sa.update(S).values(boarding=True))
    sess.execute(sa.delete(S).where(S.c.school_id == b))  # reaches nothing: b is out of scope
    assert boarding_in(b) == before and before[0] > before[1]
    total, boarding = boarding_in(a)
    assert total == boarding
    klass = _one_class(sess, b)
    row = {"school_id": b, "student_no": "X1", "name": "越权", "sex_code": "1", "ethnicity_code": "01",
           "class_id": klass, "boarding": False, "status_code": "01"}
    with pytest.raises(TenancyError):
        sess.execute(sa.insert(S), [row])
    with pytest.raises(TenancyError):
        sess.execute(sa.insert(S).values(**row))
    with pytest.raises(TenancyError):
        sess.execute(sa.update(S).values(school_id=b))
    with pytest.raises(TenancyError):
        sess.execute(sa.text("SELECT count(*) FROM students"))
    sess.rollback()


def test_a_session_without_scope_sees_nothing_and_the_bypass_names_its_reason(sess):
    assert sess.scalar(sa.select(sa.func.count()).select_from(S)) == 0
    assert sess.scalar(sa.select(sa.func.count()).select_from(S), execution_options=ALL) > 0
    with pytest.raises(TypeError):
        unscoped("")
    a, b = _schools(sess)
    with unscoped("test: one block").on(sess):
        assert sess.scalar(sa.select(sa.func.count(sa.distinct(S.c.school_id)))) == 2
    assert sess.scalar(sa.select(sa.func.count()).select_from(S)) == 0
    # acting for one school: exactly that school, also from an unscoped session
    unscoped("test: the whole session").mark(sess)
    with unscoped("test: for one school").for_school(sess, b):
        assert set(sess.scalars(sa.select(S.c.school_id).distinct())) == {b}
    assert sess.scalar(sa.select(sa.func.count(sa.distinct(S.c.school_id)))) == 2


def test_a_write_reading_a_subquery_it_cannot_scope_is_refused(sess):
    a, _ = _schools(sess)
    set_scope(sess, Scope(school_ids=frozenset({a}), full_school_ids=frozenset({a})))
    picked = sa.select(S.c.id).where(S.c.boarding.is_(True)).subquery()
    with pytest.raises(TenancyError):
        sess.execute(sa.update(S).where(S.c.id == picked.c.id).values(name="改"))
