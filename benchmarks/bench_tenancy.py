"""Benchmark: what automatic school scoping costs per statement, against the same statements with the
school's filter written by hand.

On PostgreSQL with the demo district (the database of bench_students_api.py, 100 schools x 1000 students),
a session scoped as school s001's admin executes five statements a capability typically runs; the baseline
is an unscoped session executing each with ``students.school_id = <school>`` written into it by hand (the
same rows come back — checked). Interleaved in the same run; median and p95 per statement, and the ratio.

  orm roster       select(Student).where(class_id = c)              ORM entity: with_loader_criteria + the walk
  core roster      select(students.c.id, .name).where(class_id = c) Core on __table__: the walk writes the filter
  core join        students ⋈ org_units (class names) of a grade    a join: both tables filtered
  core subquery    count of students in the grade's classes (IN)    a nested SELECT filtered too
  executemany      UPDATE students SET boarding = :b WHERE id = :i  40 rows; fixed IN lists (rolled back)

    .venv/bin/python benchmarks/bench_tenancy.py [--repeat 300]
"""
from __future__ import annotations

import argparse
import statistics
import time

import sqlalchemy as sa
import sqlalchemy.orm as so
from bench_students_api import DEFAULT_URL, ensure_database

from foundation.models import OrgUnit, Student
from foundation.tenancy import Scope, set_scope, unscoped

ST, OU = Student.__table__, OrgUnit.__table__


def statements(school: int, klass: int, grade: int, kids: list[int]) -> dict[str, tuple]:
    """name → (the statement as a capability writes it, the same with the school's filter by hand, params)."""
    def mine(stmt, *tables):
        return stmt.where(*[t.c.school_id == school for t in tables])

    classes = sa.select(OU.c.id).where(OU.c.parent_id == grade, OU.c.kind == "class")
    order = (ST.c.student_no, ST.c.id)
    return {
        "orm roster": (sa.select(Student).where(Student.class_id == klass).order_by(*order),
                       sa.select(Student).where(Student.class_id == klass, Student.school_id == school).order_by(*order),
                       None),
        "core roster": (sa.select(ST.c.id, ST.c.name).where(ST.c.class_id == klass).order_by(*order),
                        mine(sa.select(ST.c.id, ST.c.name).where(ST.c.class_id == klass).order_by(*order), ST), None),
        "core join": (sa.select(ST.c.id, OU.c.name).join(OU, OU.c.id == ST.c.class_id).where(OU.c.parent_id == grade)
                      .order_by(ST.c.id),
                      mine(sa.select(ST.c.id, OU.c.name).join(OU, OU.c.id == ST.c.class_id)
                           .where(OU.c.parent_id == grade).order_by(ST.c.id), ST, OU), None),
        "core subquery": (sa.select(sa.func.count()).select_from(ST).where(ST.c.class_id.in_(classes)),
                          mine(sa.select(sa.func.count()).select_from(ST)
                               .where(ST.c.class_id.in_(mine(classes, OU))), ST), None),
        "executemany": (sa.update(ST).where(ST.c.id == sa.bindparam("i")).values(boarding=sa.bindparam("b")),
                        mine(sa.update(ST).where(ST.c.id == sa.bindparam("i")).values(boarding=sa.bindparam("b")), ST),
                        [{"i": k, "b": False} for k in kids]),
    }


def run(engine: sa.Engine, repeat: int, warmup: int) -> None:
    with unscoped("benchmark setup").session(engine) as s:
        school = s.scalar(sa.select(OU.c.id).where(OU.c.kind == "school").order_by(OU.c.id))
        klass, grade = s.execute(sa.select(OU.c.id, OU.c.parent_id).where(OU.c.school_id == school,
                                                                           OU.c.kind == "class").limit(1)).one()
        kids = list(s.scalars(sa.select(ST.c.id).where(ST.c.class_id == klass)))[:40]
    work = statements(school, klass, grade, kids)
    scope = Scope.school(school)
    scoped, plain = so.Session(engine), unscoped("benchmark: the hand-written baseline").mark(so.Session(engine))
    set_scope(scoped, scope)

    def once(sess, stmt, params):
        if params is None:  # rows as plain values (an entity by its id), comparable across sessions
            return [tuple(getattr(v, "id", v) for v in row) for row in sess.execute(stmt).all()]
        sess.execute(stmt, params)
        sess.rollback()
        return None

    for name, (auto, hand, params) in work.items():  # same answers, or the comparison means nothing
        assert once(scoped, auto, params) == once(plain, hand, params), name
    times: dict[tuple[str, str], list[float]] = {}
    for i in range(warmup + repeat):
        for name, (auto, hand, params) in work.items():
            pairs = [("scoped", scoped, auto), ("hand", plain, hand)]
            for variant, sess, stmt in pairs if i % 2 else reversed(pairs):
                t0 = time.perf_counter()
                once(sess, stmt, params)
                if i >= warmup:
                    times.setdefault((name, variant), []).append(time.perf_counter() - t0)
            scoped.rollback()
            plain.rollback()
    print(f"school {school}, class {klass} ({len(kids)} students), grade {grade}; repeat {repeat}, warmup {warmup}\n")
    print(f"{'statement':<15} {'variant':<26} {'median µs':>10} {'p95 µs':>9} {'x hand':>7}")
    for name in work:
        base = statistics.median(times[(name, "hand")])
        for variant, label in (("scoped", "scoped automatically"), ("hand", "school filter by hand")):
            ts = sorted(times[(name, variant)])
            med = statistics.median(ts)
            print(f"{name if variant == 'scoped' else '':<15} {label:<26} {med * 1e6:>10.0f} "
                  f"{ts[int(len(ts) * 0.95) - 1] * 1e6:>9.0f} {med / base:>6.2f}x")
    scoped.close()
    plain.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--schools", type=int, default=100)
    ap.add_argument("--students-per-school", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    args = ap.parse_args()
    ensure_database(args.database_url, args.schools, args.students_per_school, rebuild=False)
    engine = sa.create_engine(args.database_url)
    try:
        run(engine, args.repeat, args.warmup)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
