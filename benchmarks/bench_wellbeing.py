"""Wellbeing plugin on PostgreSQL with the demo district (100 schools x 1,000 students by default):

1. a district screening in bulk: every school's psychology teacher POSTs the school's PHQ-9 answers to
   ``/wellbeing/api/screenings/<id>/responses/bulk`` (1,000 a request): checks, consent, scoring, levels,
   the rows (COPY) and the alert cases with their messages — against ONE hand-written SQL statement that
   scores and classifies the same answers (INSERT … SELECT from a staging table), in the same run; the
   plugin's totals, bands and levels are checked equal to the SQL's;
2. item 9 → the red case in the psychology teacher's inbox: a student submits their own PHQ-9 with item 9 = 1
   and the clock stops when the psychology teacher's inbox API lists the alert (200 students, one a school
   pair); median and p95.

    .venv/bin/python benchmarks/bench_wellbeing.py                         # 100 x 1,000 (own database)
    .venv/bin/python benchmarks/bench_wellbeing.py --schools 20 --students-per-school 1000

Its own database (``jizuo_bench_wellbeing``, built on the first run like bench_students_api.py's). Every run
starts a new screening round in every school, so runs do not depend on each other. Guardians' consents for
the under-14s are recorded in setup (the timed path still checks them for every row).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(__file__))
from bench_students_api import SECRET, ensure_database, login, summary  # noqa: E402

from foundation import create_app, db  # noqa: E402
from foundation.migrate import upgrade  # noqa: E402
from foundation.models import Account, AppListing, OrgUnit, PluginInstall, Student  # noqa: E402
from foundation.tenancy import unscoped  # noqa: E402

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jizuo_bench_wellbeing"
HAND_SQL = """INSERT INTO bench_wellbeing_scored (student_id, total, band, level)
SELECT student_id, t,
  CASE WHEN t >= 20 THEN 'severe' WHEN t >= 15 THEN 'moderately_severe' WHEN t >= 10 THEN 'moderate'
       WHEN t >= 5 THEN 'mild' ELSE 'minimal' END,
  CASE WHEN a9 > 0 OR t >= 20 THEN 'red' WHEN t >= 10 THEN 'yellow' END
FROM (SELECT student_id, a9, a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 AS t FROM bench_wellbeing_raw) r"""


def setup(app, schools: list[int]) -> None:
    """Wellbeing published and enabled everywhere; every under-14's guardian consented (idempotent)."""
    from foundation.services import square

    host = app.extensions["jizuo.plugins"]
    with app.app_context():
        sess = unscoped("benchmark setup").mark(db.session())
        square.list_plugins(sess, host.loaded)
        listing = sess.scalar(sa.select(AppListing).where(AppListing.key == "wellbeing"))
        if listing.status != "published":
            for action in ("review", "publish"):
                square.step(sess, listing, action, account_id=None, name="bench", reason=None)
        have = set(sess.scalars(sa.select(PluginInstall.school_id).where(PluginInstall.plugin == "wellbeing")))
        version = host.loaded["wellbeing"].manifest["version"]
        for school in schools:
            if school not in have:
                sess.add(PluginInstall(plugin="wellbeing", school_id=school, version=version, enabled=True,
                                       config={}, installed_by=None))
        sess.execute(sa.text("""INSERT INTO wellbeing_consents (school_id, student_id, status, asked_at, answered_at,
            answered_by_name) SELECT s.school_id, s.id, 'granted', now(), now(), 'bench' FROM students s
            WHERE NOT EXISTS (SELECT 1 FROM wellbeing_consents c WHERE c.student_id = s.id)"""))
        sess.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_wellbeing_raw (student_id int, a1 int, a2 int, "
                             "a3 int, a4 int, a5 int, a6 int, a7 int, a8 int, a9 int)"))
        sess.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_wellbeing_scored (student_id int, total int, "
                             "band varchar(20), level varchar(8))"))
        sess.commit()


def answers(rng: random.Random) -> list[int]:
    from plugins.wellbeing.demo import _answers

    return _answers(rng)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=URL)
    ap.add_argument("--schools", type=int, default=100)
    ap.add_argument("--students-per-school", type=int, default=1000)
    ap.add_argument("--latency", type=int, default=200, help="item-9 submissions timed")
    args = ap.parse_args()
    ensure_database(args.database_url, args.schools, args.students_per_school, False)
    upgrade(args.database_url)
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True,
                      "REDIS_URL": None, "INSTANCE_PATH": os.path.join(tempfile.gettempdir(), "jizuo-bench-wb")})
    engine = app.extensions["jizuo.engine"]
    with engine.connect() as conn:
        schools = list(conn.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school").order_by(OrgUnit.id)))
        sample = set(conn.scalars(sa.select(Account.person_id).where(  # the demo's student logins: timed in part 2
            Account.person_kind == "student", sa.or_(Account.username.like("%.student"), Account.username.like("%.cadre")))))
        prefixes = dict(conn.execute(sa.text("SELECT m.school_id, split_part(a.username, '.', 1) FROM accounts a "
                                             "JOIN memberships m ON m.account_id = a.id WHERE m.role = 'school_admin'")).all())
    setup(app, schools)
    today = date.today()
    rng = random.Random(1)
    clients, batches, raw = {}, {}, []
    print(f"{len(schools)} schools; scheduling a PHQ-9 round in each ...", flush=True)
    for school in schools:
        client = app.test_client()
        login(client, f"{prefixes[school]}.psych")
        csrf = client.get("/api/v1/me").get_json()["csrf_token"]
        classes = [c for c in client.get("/api/v1/classes?per_page=500").get_json()["items"]]
        resp = client.post("/wellbeing/api/screenings", headers={"X-CSRFToken": csrf}, json={
            "instrument": "phq9", "class_ids": [c["id"] for c in classes], "opens_on": today.isoformat(),
            "closes_on": (today + timedelta(days=3)).isoformat(), "title": f"bench {time.time():.0f}"})
        assert resp.status_code == 201, resp.get_json()
        clients[school] = (client, csrf, resp.get_json()["id"])
        with engine.connect() as conn:
            kids = conn.scalars(sa.select(Student.id).where(Student.school_id == school, Student.status_code == "01")
                                .order_by(Student.id)).all()
        batch = [{"student_id": k, "answers": answers(rng)} for k in kids if k not in sample]
        batches[school] = batch
        raw += [(b["student_id"], *b["answers"]) for b in batch]
    total = sum(len(b) for b in batches.values())
    print(f"{total:,} responses ready", flush=True)

    t0 = time.perf_counter()
    for school, (client, csrf, scr) in clients.items():
        resp = client.post(f"/wellbeing/api/screenings/{scr}/responses/bulk", headers={"X-CSRFToken": csrf},
                           json={"responses": batches[school]})
        assert resp.status_code == 201, resp.get_data(as_text=True)[:500]
    plugin_s = time.perf_counter() - t0

    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE bench_wellbeing_raw, bench_wellbeing_scored"))
        cur = conn.connection.driver_connection.cursor()
        with cur.copy("COPY bench_wellbeing_raw FROM STDIN") as copy:
            for row in raw:
                copy.write_row(row)
    with engine.begin() as conn:
        t0 = time.perf_counter()
        conn.execute(sa.text(HAND_SQL))
        sql_s = time.perf_counter() - t0
    with engine.connect() as conn:
        ids = [c[2] for c in clients.values()]
        mismatch = conn.scalar(sa.text("""SELECT count(*) FROM bench_wellbeing_scored h FULL JOIN
            (SELECT student_id, total, band, level FROM wellbeing_responses WHERE screening_id = ANY(:ids)) p
            ON p.student_id = h.student_id
            WHERE p.student_id IS NULL OR h.student_id IS NULL OR p.total <> h.total OR p.band <> h.band
               OR p.level IS DISTINCT FROM h.level"""), {"ids": ids})
        cases = conn.scalar(sa.text("SELECT count(*) FROM wellbeing_responses WHERE screening_id = ANY(:ids) "
                                    "AND case_id IS NOT NULL"), {"ids": ids})
    assert mismatch == 0, f"{mismatch} rows differ between the plugin and the hand-written SQL"
    from plugins.wellbeing.scoring import score

    t0 = time.perf_counter()
    for row in raw:  # the plugin's scoring and levels alone, in process, on the same rows
        score("phq9", list(row[1:]))
    inproc_s = time.perf_counter() - t0
    print("\n== a district screening in bulk ==")
    print(f"plugin (API, checks, consent, scoring, COPY, {cases:,} alert cases): {plugin_s:8.2f} s "
          f"({total / plugin_s:,.0f} responses/s)")
    print(f"one hand-written SQL statement (score + classify):     {sql_s:8.2f} s")
    print(f"ratio plugin / SQL: {plugin_s / sql_s:.1f}x   (same {total:,} rows, results identical)")
    print(f"the plugin's scoring and levels alone (in process, scoring.score): {inproc_s:.2f} s, "
          f"{inproc_s / sql_s:.1f}x the SQL")
    latency(app, engine, schools, prefixes, clients, args.latency)


def latency(app, engine, schools, prefixes, clients, n: int) -> None:
    """A student's own item-9 answer → the alert in their psychology teacher's inbox."""
    item9 = [0, 1, 0, 0, 1, 0, 0, 0, 1]
    times = []
    roles = ("student", "student_cadre")
    for i in range(n):
        school = schools[(i // len(roles)) % len(schools)]
        if i >= 2 * len(schools):
            break
        kid_client = app.test_client()
        login(kid_client, f"{prefixes[school]}.{'student' if roles[i % 2] == 'student' else 'cadre'}")
        csrf = kid_client.get("/api/v1/me").get_json()["csrf_token"]
        psych, _, scr = clients[school]
        before = psych.get("/api/v1/messages/inbox").get_json()["items"]
        seen = {m["id"] for m in before}
        t0 = time.perf_counter()
        resp = kid_client.post(f"/wellbeing/api/screenings/{scr}/responses", headers={"X-CSRFToken": csrf},
                               json={"answers": item9})
        assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
        while True:
            items = psych.get("/api/v1/messages/inbox?unread=1").get_json()["items"]
            if any(m["id"] not in seen and (m.get("link") or "").startswith("/alerts/") for m in items):
                break
        times.append(time.perf_counter() - t0)
    med, p95 = summary(times)
    print(f"\n== item 9 → red case in the psychology teacher's inbox ({len(times)} students) ==")
    print(f"median {med:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
