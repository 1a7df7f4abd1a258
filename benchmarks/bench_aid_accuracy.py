"""Aid identification accuracy on a labelled cohort: per truth rate, one demo school of N students gets a month of
card and canteen records from the demo's habits (plugins/aid/demo.py) with a known truth — students in
difficulty at that rate, day students who eat at home, boarders who eat off campus, students on internship for
two weeks, students who joined mid-month or replaced their card — and a holiday week the school's calendar
knows. Then the plugin's identification runs, and so does the plain practice rule (the same thresholds on
everyone, no exclusions). Printed: precision and recall at k (k = the true number in difficulty; the ranked
candidates, highest score first) and the flags among the students away or eating elsewhere.

    .venv/bin/python benchmarks/bench_aid_accuracy.py --students 600 --seed 1 --rates 0.03,0.06,0.10
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from foundation import create_app, db  # noqa: E402
from foundation.models import OrgUnit, SchoolCalendarDay, Student  # noqa: E402
from foundation.plugin_api import bulk_insert, demo_records, school_calendar  # noqa: E402
from foundation.tenancy import unscoped  # noqa: E402
from foundation.testing import SECRET, build_district  # noqa: E402
from plugins.aid import identify as ident  # noqa: E402
from plugins.aid.demo import day_rows  # noqa: E402
from plugins.aid.models import away, indicators  # noqa: E402

ELSEWHERE = ("at_home", "off_campus", "internship", "joined", "replaced")


def label(students: list[Student], rate: float, rng: random.Random) -> dict[int, str]:
    truth = {}
    for s in students:
        r = rng.random()
        truth[s.id] = ("difficulty" if r < rate else "off_campus" if r < rate + 0.04 and s.boarding else
                       "at_home" if r < rate + 0.12 and not s.boarding else "internship" if r < rate + 0.17 else
                       "joined" if r < rate + 0.19 else "replaced" if r < rate + 0.21 else "normal")
    return truth


def fill(sess, school: int, month: str, truth: dict[int, str], boarding: dict[int, bool], rng: random.Random) -> None:
    first, last = ident.month_days(month)
    clock = school_calendar(sess, school)
    days = [d for d in (first + timedelta(days=i) for i in range((last - first).days + 1)) if clock.is_school_day(d)]
    intern = set(days[4:14])
    meals, pays = [], []
    for sid, kind in truth.items():
        habit = {"internship": "normal", "joined": "normal", "replaced": "normal"}.get(kind, kind)
        for i, d in enumerate(days):
            if kind == "internship" and d in intern or kind == "joined" and i < 9:
                continue
            card = f"{sid:08d}" + ("R" if kind == "replaced" and i >= len(days) // 2 else "")
            m, p = day_rows(sid, habit, boarding[sid], d, rng, clock.tz, card, 1.0)
            meals += m
            pays += p
    demo_records(sess, "canteen_meal", meals)
    demo_records(sess, "card_transaction", pays)
    bulk_insert(sess, away, [{"school_id": school, "student_id": sid, "kind": "internship", "first_day": min(intern),
                              "last_day": max(intern)} for sid, k in truth.items() if k == "internship"])


def plain_rule(sess, school: int, month: str) -> list[tuple[int, str, int]]:
    """The practice rule on everyone: the same figures and thresholds, no exclusions, no calendar away days."""
    cfg = ident.settings(school)
    first, last = ident.month_days(month)
    win = ident.Window(school_calendar(sess, school), first, last)
    students = ident.roster(sess)
    raw = ident.measure(sess, win, students)
    figs = {sid: ident.figures_of({**f, "away_days": 0}, win) for sid, f in raw.items()}
    means = ident.group_averages(figs, students, set(figs))
    return [(sid, *ident.judge(figs[sid], means.get(sid), cfg)[:2]) for sid in figs]


def score(ranked: list[tuple[int, str, int]], truth: dict[int, str]) -> dict:
    k = sum(1 for v in truth.values() if v == "difficulty")
    flagged = sorted((r for r in ranked if r[1] == "candidate"), key=lambda r: -r[2])
    top = flagged[:k]
    hits = sum(1 for sid, *_ in top if truth[sid] == "difficulty")
    return {"k": k, "flagged": len(flagged), "p_at_k": hits / len(top) if top else 0.0, "r_at_k": hits / k if k else 0.0,
            "elsewhere_flags": sum(1 for sid, *_ in flagged if truth[sid] in ELSEWHERE)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rates", default="0.03,0.06,0.10")
    args = ap.parse_args()
    rates = [float(x) for x in args.rates.split(",")]
    work = Path(tempfile.mkdtemp(prefix="aid_acc_"))
    district = build_district(work, schools=len(rates), students_per_school=args.students, seed=args.seed)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{district.path}", "SECRET_KEY": SECRET,
                      "INSTANCE_PATH": str(work / "instance"), "REDIS_URL": None})
    today = datetime.now(UTC).date()
    month = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
    print(f"cohort: {args.students} students a school, seed {args.seed}, month {month}, a holiday week in the calendar")
    print(f"{'rate':>5} {'k':>4} | {'ours P@k':>8} {'R@k':>5} {'flags':>5} {'elsewhere':>9} | "
          f"{'plain P@k':>9} {'R@k':>5} {'flags':>5} {'elsewhere':>9} | {'secs':>5}")
    with app.app_context():
        sess = unscoped("bench: the labelled cohort").mark(db.session())
        schools = sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
        for rate, school in zip(rates, schools, strict=True):
            rng = random.Random(args.seed * 1000 + school)
            students = sess.scalars(sa.select(Student).where(Student.school_id == school).order_by(Student.id)).all()
            for s in students:
                s.boarding = rng.random() < 0.7
            first, _ = ident.month_days(month)
            for d in (first + timedelta(days=i) for i in range(14, 19)):  # a holiday week the school set
                sess.add(SchoolCalendarDay(school_id=school, day=d, kind="holiday"))
            sess.flush()
            truth = label(students, rate, rng)
            with unscoped("bench").for_school(sess, school):
                fill(sess, school, month, truth, {s.id: s.boarding for s in students}, rng)
                t0 = time.perf_counter()
                ident.identify(sess, school, month)
                secs = time.perf_counter() - t0
                ours = [(r.student_id, r.status, r.score) for r in sess.execute(
                    sa.select(indicators.c.student_id, indicators.c.status, indicators.c.score)
                    .where(indicators.c.month == month))]
                plain = plain_rule(sess, school, month)
            a, b = score(ours, truth), score(plain, truth)
            print(f"{rate:>5.2f} {a['k']:>4} | {a['p_at_k']:>8.2f} {a['r_at_k']:>5.2f} {a['flagged']:>5} "
                  f"{a['elsewhere_flags']:>9} | {b['p_at_k']:>9.2f} {b['r_at_k']:>5.2f} {b['flagged']:>5} "
                  f"{b['elsewhere_flags']:>9} | {secs:>5.2f}")
        sess.rollback()
    print("elsewhere: flags among students eating at home or off campus, on internship, joined mid-month, new card")



if __name__ == "__main__":
    main()
