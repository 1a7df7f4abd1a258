"""The tenancy layer itself: fail closed, narrow by class and child, refuse writes outside scope."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import OrgUnit, Student
from foundation.tenancy import ALL_SCHOOLS, Scope, TenancyError, set_scope


@pytest.fixture
def sess(app):
    with so.Session(app.extensions["jizuo.engine"]) as s:
        yield s


def _schools(sess) -> list[int]:
    return sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school"), execution_options=ALL_SCHOOLS))


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
    total = sess.scalar(sa.select(sa.func.count(Student.id)), execution_options=ALL_SCHOOLS)
    assert total > 1


def test_writes_outside_the_scope_are_refused(sess):
    a, b = _schools(sess)
    set_scope(sess, Scope(school_ids=frozenset({a}), full_school_ids=frozenset({a})))
    other = sess.scalar(sa.select(Student).where(Student.school_id == b), execution_options=ALL_SCHOOLS)
    other.name = "越权修改"
    with pytest.raises(TenancyError):
        sess.flush()
    sess.rollback()
    klass = sess.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "class", OrgUnit.school_id == b),
                        execution_options=ALL_SCHOOLS)
    sess.add(Student(school_id=b, student_no="Z1", name="越权", sex_code="1", ethnicity_code="01", class_id=klass.id))
    with pytest.raises(TenancyError):
        sess.flush()


def test_orm_bulk_update_is_scoped_too(sess):
    a, b = _schools(sess)
    set_scope(sess, Scope(school_ids=frozenset({a}), full_school_ids=frozenset({a})))
    sess.execute(sa.update(Student).values(boarding=True))
    flagged = sess.execute(sa.select(Student.school_id, Student.boarding), execution_options=ALL_SCHOOLS).all()
    assert all(boarding for school, boarding in flagged if school == a)
    assert not any(boarding for school, boarding in flagged if school == b) or \
        sess.scalar(sa.select(sa.func.count()).where(Student.school_id == b, Student.boarding.is_(False)),
                    execution_options=ALL_SCHOOLS) > 0
    sess.rollback()
