"""Learning plugin on PostgreSQL: its own demo district (``jizuo_bench_learning``, 8 schools × 1,000 students,
a term of item responses through the plugin's ``jizuo_demo_data``: about 2.2 million responses).

1. live mastery update: one response POSTed to the ingest API (``/api/v1/ingest/item_response``) until the
   new mastery is stored (the plugin's subscriber runs in the ingest's transaction), against the same ingest
   with the plugin disabled for the school — median, p95 and the ratio;
2. the nightly refit (job ``learning.refit``) over every school's responses, in a child process of its own:
   wall time and the child's peak resident memory;
3. value added over 100,000 synthetic students (100 schools × 25 classes × 40): the plugin's ``report``
   (gain, regression and MixedLM, with intervals per class) against statsmodels' MixedLM alone on the same
   data frame;
4. next-response prediction AUC on held-back responses (each student's last 20% per knowledge point, the
   parameters fitted on the rest): BKT against the student's running accuracy and the knowledge point's
   accuracy, on the same held-back set.

    JIZUO_PLUGINS=learning .venv/bin/python benchmarks/bench_learning.py
    .venv/bin/python benchmarks/bench_learning.py --repeat 200 --va-students 100000
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(__file__))
from bench_students_api import SECRET, ensure_database, login, summary  # noqa: E402

from foundation import create_app, db  # noqa: E402
from foundation.migrate import upgrade  # noqa: E402
from foundation.models import AppListing, DataSource, OrgUnit, PluginInstall, Student  # noqa: E402
from foundation.plugin_runtime import demo_data  # noqa: E402
from foundation.tenancy import unscoped  # noqa: E402

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jizuo_bench_learning"
USERNAME = "s001.admin"


def make_app(url: str):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True, "REDIS_URL": None,
                       "INSTANCE_PATH": os.path.join(tempfile.gettempdir(), "jizuo-bench-instance")})


def setup(app) -> list[int]:
    """The plugin installed in every school, with a term of responses (idempotent)."""
    from foundation.services import square

    host = app.extensions["jizuo.plugins"]
    with app.app_context():
        sess = unscoped("benchmark setup").mark(db.session())
        schools = sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
        square.list_plugins(sess, host.loaded)
        listing = sess.scalar(sa.select(AppListing).where(AppListing.key == "learning"))
        if listing.status != "published":
            for action in ("review", "publish"):
                square.step(sess, listing, action, account_id=None, name="bench", reason=None)
        have = set(sess.scalars(sa.select(PluginInstall.school_id).where(PluginInstall.plugin == "learning")))
        version = host.loaded["learning"].manifest["version"]
        for school in schools:
            if school not in have:
                sess.add(PluginInstall(plugin="learning", school_id=school, version=version, enabled=True,
                                       config={}, installed_by=None))
                sess.flush()
                with unscoped("benchmark setup").for_school(sess, school):
                    host.call("learning", "jizuo_install", school_id=school, config={})
        sess.execute(sa.update(PluginInstall).where(PluginInstall.plugin == "learning").values(enabled=True))
        if sess.scalar(sa.select(DataSource.id).where(DataSource.code == "homework_app")) is None:
            sess.add(DataSource(code="homework_app", name="作业平台"))
        sess.commit()
        if not sess.scalar(sa.text("SELECT count(*) FROM learning_responses")):
            print("filling a term of item responses for every student ...", flush=True)
            t0 = time.perf_counter()
            demo_data("learning", schools, seed=1)
            with app.extensions["jizuo.engine"].connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                for table in ("learning_responses", "learning_mastery", "learning_history", "learning_scores"):
                    c.exec_driver_sql(f"VACUUM ANALYZE {table}")
            print(f"  filled in {time.perf_counter() - t0:.0f} s", flush=True)
    return schools


def live_update(app, repeat: int, warmup: int) -> None:
    client = app.test_client()
    login(client, USERNAME)
    headers = {"X-CSRFToken": client.get("/api/v1/me").get_json()["csrf_token"]}
    engine = app.extensions["jizuo.engine"]
    with engine.connect() as conn:
        school = conn.scalar(sa.text("SELECT school_id FROM memberships m JOIN accounts a ON a.id = m.account_id"
                                     " WHERE a.username = :u"), {"u": USERNAME})
        kids = conn.execute(sa.select(Student.id, Student.student_no).where(Student.school_id == school)
                            .order_by(Student.id)).all()
    run_id, codes = uuid.uuid4().hex[:8], ["MA7.NA.01", "MA7.GE.02", "ZH7.RD.02", "ZH7.CH.01"]

    def ingest(i: int, tag: str) -> tuple:
        kid, code = kids[(i * 37) % len(kids)], codes[i % len(codes)]
        resp = client.post("/api/v1/ingest/item_response?source=homework_app", headers=headers, json=[{
            "source_id": f"bench-{run_id}-{tag}-{i}", "student": kid.student_no, "subject": "math",
            "occurred_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(), "item_id": f"B-{i}",
            "knowledge_points": [code], "correct": i % 3 != 0}])
        if resp.status_code != 200 or resp.get_json()["created"] != 1:
            sys.exit(f"ingest: HTTP {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        return kid, code

    on, off = [], []
    for i in range(warmup + repeat):
        t0 = time.perf_counter()
        kid, code = ingest(i, "on")
        took = time.perf_counter() - t0
        with engine.connect() as conn:  # the update is there once the request returns
            n = conn.scalar(sa.text("SELECT count(*) FROM learning_responses WHERE student_id = :s AND code = :c "
                                    "AND occurred_at > now() - interval '1 hour'"), {"s": kid.id, "c": code})
        assert n >= 1
        if i >= warmup:
            on.append(took)
    with engine.begin() as conn:
        conn.execute(sa.update(PluginInstall).where(PluginInstall.plugin == "learning",
                                                    PluginInstall.school_id == school).values(enabled=False))
    try:
        for i in range(warmup + repeat):
            t0 = time.perf_counter()
            ingest(i, "off")
            if i >= warmup:
                off.append(time.perf_counter() - t0)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.update(PluginInstall).where(PluginInstall.plugin == "learning",
                                                        PluginInstall.school_id == school).values(enabled=True))
    print(f"\n== 1. one response through the ingest API, mastery updated in the same request ({repeat} runs, ms) ==")
    print(f"{'':<34}{'median':>10}{'p95':>10}")
    for label, xs in (("ingest, learning enabled", on), ("ingest, learning disabled", off)):
        med, p95 = summary(xs)
        print(f"{label:<34}{med:>10.2f}{p95:>10.2f}")
    print(f"enabled / disabled (median): {summary(on)[0] / summary(off)[0]:.2f}x")


def refit_child(url: str) -> None:
    """Run in a child process: the nightly refit for every school, then the time and this process's peak RSS."""
    from plugins.learning.refit import refit

    app = make_app(url)
    with app.app_context():
        sess = unscoped("benchmark: the nightly refit").mark(db.session())
        schools = sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
        rows = sess.scalar(sa.text("SELECT count(*) FROM learning_responses"))
        t0 = time.perf_counter()
        done = []
        for school in schools:
            with unscoped("benchmark: acting for one school").for_school(sess, school):
                done.append(refit(sess, school))
            sess.commit()
        took = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{rows:,} responses, {len(schools)} schools, {sum(d['points'] for d in done)} knowledge points fitted, "
          f"{sum(d['retraced'] for d in done):,} masteries re-traced")
    print(f"refit wall time: {took:.1f} s; peak resident memory of the process: {peak:.0f} MB")


def value_added(students: int, repeat: int) -> None:
    import warnings

    import pandas as pd
    import statsmodels.formula.api as smf

    from plugins.learning.valueadded import report

    rng = np.random.default_rng(1)
    n_schools, per_class = 100, 40
    classes = students // per_class
    cls = np.repeat(np.arange(classes), per_class)[:students]
    school = cls // (classes // n_schools)
    pre = rng.normal(70, 12, students)
    post = (pre + 4 + rng.normal(0, 2, n_schools)[school] + rng.normal(0, 3, classes)[cls]
            + rng.normal(0, 6, students))
    df = pd.DataFrame({"student": np.arange(students), "class_id": cls, "school_id": school, "pre": pre,
                       "mid": pre + rng.normal(0, 4, students), "post": post})
    df["klass"] = df["class_id"].astype(str)
    plugin, direct = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = report(df)
        plugin.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smf.mixedlm("post ~ pre", df, groups=df["school_id"], re_formula="1",
                        vc_formula={"klass": "0 + C(klass)"}).fit(reml=True, method=["lbfgs"])
        direct.append(time.perf_counter() - t0)
    print(f"\n== 3. value added over {students:,} students, {classes:,} classes, {n_schools} schools "
          f"({repeat} runs, s) ==")
    print(f"plugin report (gain + regression + MixedLM, intervals per class): median {np.median(plugin):.1f}")
    print(f"statsmodels MixedLM alone, same frame:                          median {np.median(direct):.1f}")
    print(f"ratio: {np.median(plugin) / np.median(direct):.2f}x; variance components {out['components']}")


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney, ties averaged)."""
    from scipy.stats import rankdata

    r = rankdata(score)
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def prediction_auc(url: str, schools_used: int) -> None:
    from plugins.learning import bkt

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT student_id, code, correct::int FROM learning_responses WHERE school_id IN "
            "(SELECT id FROM org_units WHERE kind = 'school' ORDER BY id LIMIT :n) "
            "ORDER BY student_id, occurred_at, id"), {"n": schools_used}).all()
    arr = np.array(rows, dtype=object)
    students, codes, right = arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2].astype(np.int8)
    # held back: the last 20% of each (student, point) sequence
    seqs: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(students, codes, strict=True)):
        seqs.setdefault(key, []).append(i)
    test = np.zeros(len(rows), dtype=bool)
    for idx in seqs.values():
        k = max(1, len(idx) // 5) if len(idx) >= 5 else 0
        if k:
            test[idx[-k:]] = True
    by_code: dict[str, list[list[int]]] = {}
    for (_s, code), idx in seqs.items():
        by_code.setdefault(code, []).append([int(right[i]) for i in idx if not test[i]])
    params = {code: bkt.fit_restarts(s) for code, s in by_code.items()}
    pred_bkt = np.zeros(len(rows))
    for (_s, code), idx in seqs.items():
        preds, _ = bkt.trace([int(right[i]) for i in idx], params[code])
        pred_bkt[idx] = preds
    # the student's running accuracy over all points so far; the point's accuracy on the training part
    run_acc = np.zeros(len(rows))
    seen: dict[int, list[int]] = {}
    for i, s in enumerate(students):
        n, k = seen.get(s, [0, 0])
        run_acc[i] = (k + 1) / (n + 2)  # Laplace-smoothed: 0.5 before any answer
        seen[s] = [n + 1, k + int(right[i])]
    point_acc = {c: np.mean([x for s in lists for x in s]) for c, lists in by_code.items()}
    pred_point = np.array([point_acc[c] for c in codes])
    y = right[test]
    print(f"\n== 4. next-response prediction on {int(test.sum()):,} held-back responses "
          f"({len(rows):,} responses of {schools_used} schools) ==")
    for label, p in (("BKT (fitted on the rest)", pred_bkt), ("student's running accuracy", run_acc),
                     ("knowledge point's accuracy", pred_point)):
        print(f"{label:<30} AUC {auc(y, p[test]):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=URL)
    ap.add_argument("--schools", type=int, default=8)
    ap.add_argument("--students-per-school", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--va-students", type=int, default=100_000)
    ap.add_argument("--va-repeat", type=int, default=3)
    ap.add_argument("--auc-schools", type=int, default=2)
    ap.add_argument("--refit-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: live,refit,va,auc")
    args = ap.parse_args()
    if args.refit_child:
        return refit_child(args.database_url)
    skip = set(filter(None, args.skip.split(",")))
    ensure_database(args.database_url, args.schools, args.students_per_school, args.rebuild)
    upgrade(args.database_url)
    app = make_app(args.database_url)
    setup(app)
    with app.extensions["jizuo.engine"].connect() as conn:
        print(f"{conn.scalar(sa.text('SELECT count(*) FROM learning_responses')):,} responses; "
              f"{conn.scalar(sa.text('SELECT version()'))}")
    if "live" not in skip:
        live_update(app, args.repeat, args.warmup)
    if "refit" not in skip:
        print("\n== 2. the nightly refit over every school's responses (a child process) ==", flush=True)
        subprocess.run([sys.executable, __file__, "--refit-child", "--database-url", args.database_url], check=True)
    if "va" not in skip:
        value_added(args.va_students, args.va_repeat)
    if "auc" not in skip:
        prediction_auc(args.database_url, args.auc_schools)


if __name__ == "__main__":
    main()
