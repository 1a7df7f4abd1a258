"""The cockpits' figures (issue 21): each core and plugin figure, computed for one demo school as the pipeline
computes it (the session acting for that school), equals an independent count over the same rows; periods
select what they say; no group names a person; a plugin's figures exist only where it is enabled.

One database for the module: every first-party plugin installed in the first demo school only, with its
demo data, the alert pass, and the core's demo activity (``foundation/demo/activity.py``) on top."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from foundation import create_app
from tests.conftest import SECRET


def _term(today: date) -> dict:
    """The school term today falls in (September–January, February–August), as the cockpit's selector gives it."""
    if today.month >= 9 or today.month == 1:
        year = today.year if today.month >= 9 else today.year - 1
        return {"start": date(year, 9, 1), "end": date(year + 1, 2, 1), "label": f"{year}-{year + 1}-1"}
    return {"start": date(today.year, 2, 1), "end": date(today.year, 9, 1), "label": f"{today.year - 1}-{today.year}-2"}


TERM = _term(date.today())
LONG_AGO = {"start": date(2020, 9, 1), "end": date(2021, 2, 1), "label": "2020-2021-1"}


@pytest.fixture(scope="module")
def world(template, tmp_path_factory):
    from foundation.alerts.schedule import committed_pass
    from foundation.cli.common import district_session
    from foundation.cli.core import _seed_templates
    from foundation.demo.activity import fill_activity
    from foundation.models import AppListing, OrgUnit
    from foundation.plugin_runtime import demo_data, host
    from foundation.services import square
    from foundation.services.plugins import first_party, install

    url = template.copy()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True,
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("cockpit")), "REDIS_URL": None})
    with app.app_context():
        _seed_templates()
        sess = district_session()
        schools = sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
        square.list_plugins(sess, host().loaded)
        plugins = [p.name for p in first_party(host())]
        for name in plugins:
            listing = sess.scalar(sa.select(AppListing).where(AppListing.kind == "plugin", AppListing.key == name))
            for action in ("review", "publish"):
                square.step(sess, listing, action, account_id=None, name="test", reason=None)
            install(sess, host(), host().loaded[name], schools[0], {}, database_url=url, account_id=None)
            sess.commit()
            demo_data(name, [schools[0]], 7)
        committed_pass()
        _reverse_recent_entries(schools[0])
        _one_student_left(sess, schools[0])
        filled = fill_activity(district_session(), 7)
    yield {"app": app, "schools": schools, "plugins": plugins, "filled": filled}
    for stop in app.extensions.get("jizuo.plugin_unsubscribe", []):
        stop()
    app.extensions["jizuo.engine"].dispose()
    template.drop_copy(url)


def _one_student_left(sess, school: int) -> None:
    """A student who transferred out (学籍状态 not 在读): counted nowhere."""
    from foundation.models import Student

    kid = sess.scalar(sa.select(Student).where(Student.school_id == school).order_by(Student.id.desc()).limit(1))
    kid.status_code = "02"
    sess.commit()


def _reverse_recent_entries(school: int) -> None:
    """Three recent conduct entries entered in error and reversed (neither they nor their reversals count)."""
    from foundation import db
    from foundation.plugin_runtime import FOR_SCHOOL
    from plugins.points import ledger
    from plugins.points.models import entries

    sess = db.session()
    with FOR_SCHOOL.for_school(sess, school):
        recent = sess.execute(sa.select(entries).where(entries.c.reverses_id.is_(None))
                              .order_by(entries.c.occurred_at.desc(), entries.c.id).limit(3)).all()
        for row in recent:
            assert ledger.reverse(sess, dict(row._mapping), reason="录入错误", account_id=None, name="test")
    sess.commit()


@pytest.fixture
def ctx(world):
    """(unscoped session, first school) inside the app context."""
    from foundation import db
    from foundation.tenancy import unscoped

    with world["app"].app_context():
        sess = unscoped("test: independent counts over every school's rows").mark(db.session())
        yield sess, world["schools"][0]
        sess.rollback()


def compute(sess, spec_or_fn, school: int, period=None):
    """As the pipeline runs a figure: acting for the school, with the period when the figure takes one."""
    from foundation.plugin_runtime import FOR_SCHOOL

    fn = spec_or_fn["compute"] if isinstance(spec_or_fn, dict) else spec_or_fn
    with sess.begin_nested(), FOR_SCHOOL.for_school(sess, school):
        return fn(sess, school, period) if period is not None else fn(sess, school)


def by_group(cells, *keys):
    return {tuple(c["group"].get(k) for k in keys): c for c in cells}


def names(sess, school):
    from foundation.cockpit.core_figures import class_groups

    return class_groups(sess, school)


# -- the core -----------------------------------------------------------------------------------------------

def test_people(ctx):
    from foundation.cockpit import core_figures as cf
    from foundation.models import OrgUnit, Staff, Student

    sess, school = ctx
    groups = names(sess, school)
    kids = Counter(s.class_id for s in sess.scalars(sa.select(Student).where(Student.school_id == school,
                                                                                Student.status_code == "01")))
    got = {(c["group"]["grade"], c["group"]["class"]): c["count"] for c in compute(sess, cf.students, school)}
    assert got == {(groups[k]["grade"], groups[k]["class"]): n for k, n in kids.items()} and sum(got.values()) > 0
    units = sess.scalars(sa.select(OrgUnit).where(OrgUnit.school_id == school)).all()
    grade_of = {u.id: u.name for u in units if u.kind == "grade"}
    per_grade = defaultdict(list)
    for u in units:
        if u.kind == "class":
            per_grade[grade_of.get(u.parent_id)].append(kids.get(u.id, 0))
    cells = compute(sess, cf.classes, school)
    assert {c["group"]["grade"]: (c["count"], c["value"]) for c in cells} == {
        g: (len(v), round(sum(v) / len(v), 1)) for g, v in per_grade.items()}
    staff = Counter(s.subject or "其他" for s in sess.scalars(sa.select(Staff).where(Staff.school_id == school,
                                                                                   Staff.active.is_(True))))
    assert {c["group"]["subject"]: c["count"] for c in compute(sess, cf.staff, school)} == dict(staff)


def _cases(sess, school, sensitive, category=None):
    from foundation.models import AlertCase

    return sess.scalars(sa.select(AlertCase).where(AlertCase.school_id == school, AlertCase.parent_case_id.is_(None),
                                                   AlertCase.sensitive.is_(sensitive),
                                                   *([AlertCase.category == category] if category else []))).all()


def test_alerts_open_and_handled(ctx, world):
    from foundation.cockpit import core_figures as cf

    sess, school = ctx
    assert world["filled"]["cases_worked"] > 0
    groups = names(sess, school)
    assert _cases(sess, school, False) and _cases(sess, school, True)  # the demo opens both kinds
    for sensitive, category, open_fn, handled_fn in (
            (False, None, cf.alerts_open, cf.alerts_handling),
            (True, "psychology", cf.alerts_open_sensitive("psychology"), cf.alerts_handling_sensitive("psychology")),
            (True, "aid", cf.alerts_open_sensitive("aid"), cf.alerts_handling_sensitive("aid"))):
        cases = _cases(sess, school, sensitive, category)
        want = Counter((c.level, c.category) + (() if sensitive else ((groups.get(c.class_id) or {}).get("grade"),))
                       for c in cases if c.closed_at is None)
        keys = ("level", "category") if sensitive else ("level", "category", "grade")
        cells = compute(sess, open_fn, school)
        assert {k: c["count"] for k, c in by_group(cells, *keys).items()} == dict(want)
        assert all("class" not in c["group"] for c in cells)
        start, end = cf.utc_bounds(TERM)
        acc = defaultdict(lambda: [0, 0, 0, 0])
        for c in cases:
            if not start <= c.opened_at < end:
                continue
            pairs = ((c.contact_due_at, c.contact_at), (c.plan_due_at, c.plan_at), (c.follow_due_at, c.follow_at))
            if c.missed or all(done is not None for due, done in pairs if due is not None):
                acc[c.level][0] += 1
                acc[c.level][1] += int(not c.missed)
            if c.recovered is not None:
                acc[c.level][2] += 1
                acc[c.level][3] += int(c.recovered)
        cells = by_group(compute(sess, handled_fn, school, TERM), "level", "measure")
        for level, (decided, within, evaluated, recovered) in acc.items():
            assert cells[(level, "on_time")]["count"] == decided
            assert cells[(level, "on_time")]["value"] == (round(100 * within / decided, 1) if decided else None)
            assert cells[(level, "recovered")]["count"] == evaluated
            assert cells[(level, "recovered")]["value"] == (round(100 * recovered / evaluated, 1) if evaluated else None)
        assert all(c["count"] == 0 for c in compute(sess, handled_fn, school, LONG_AGO))
    decided = [c for c in _cases(sess, school, False) + _cases(sess, school, True) if c.recovered is not None]
    assert decided and any(c.missed for c in _cases(sess, school, False) + _cases(sess, school, True))


def test_communication(ctx, world):
    from foundation.cockpit import core_figures as cf
    from foundation.models import InboxItem, Message

    sess, school = ctx
    groups = names(sess, school)
    start, end = cf.utc_bounds(TERM)
    notices = [m for m in sess.scalars(sa.select(Message).where(Message.school_id == school,
                                                                 Message.type_key.in_(("notice", "emergency"))))
               if start <= m.created_at < end]
    assert notices and world["filled"]["family_accounts"] > 0

    def key(class_id):
        return ("school", None, None) if class_id is None else ("class", groups[class_id]["grade"],
                                                                groups[class_id]["class"])
    sent = Counter(key(m.class_id) for m in notices)
    replies = Counter()
    for r in sess.scalars(sa.select(Message).where(Message.reply_to_id.in_([m.id for m in notices]))):
        replies[key(next(m.class_id for m in notices if m.id == r.reply_to_id))] += 1
    asked, acked = Counter(), Counter()
    ack_ids = {m.id: m.class_id for m in notices if m.ack_required}
    for item in sess.scalars(sa.select(InboxItem).where(InboxItem.message_id.in_(list(ack_ids)))):
        asked[key(ack_ids[item.message_id])] += 1
        acked[key(ack_ids[item.message_id])] += int(item.acked_at is not None)
    keys = ("audience", "grade", "class")
    got = by_group(compute(sess, cf.notices, school, TERM), *keys)
    assert {k: c["count"] for k, c in got.items()} == dict(sent)
    assert all(c["value"] == round(replies[k] / sent[k], 2) for k, c in got.items())
    got = by_group(compute(sess, cf.notice_replies, school, TERM), *keys)
    assert {k: c["count"] for k, c in got.items() if c["count"]} == dict(replies) and sum(replies.values()) > 0
    got = by_group(compute(sess, cf.notice_acks, school, TERM), *keys)
    assert {k: (c["count"], c["value"]) for k, c in got.items()} == {
        k: (n, round(100 * acked[k] / n, 1)) for k, n in asked.items()}
    assert 0 < sum(acked.values()) < sum(asked.values())
    assert compute(sess, cf.notices, school, LONG_AGO) == []


def test_apps(ctx, world):
    from foundation.cockpit import core_figures as cf
    from foundation.models import AppListing, LowcodeForm

    sess, school = ctx
    forms = sess.scalars(sa.select(LowcodeForm)).all()
    own = {f.id for f in forms if f.school_id == school}
    kinds = Counter()
    for f in forms:
        if f.school_id != school or f.main_form_id is not None:
            continue
        kinds["reused" if f.template_key or (f.parent_form_id and f.parent_form_id not in own) else "built"] += 1
    kinds["promoted"] = sum(1 for row in sess.scalars(sa.select(AppListing)) if row.kind == "lowcode"
                            and row.owner_school_id == school and row.level == "district")
    got = {c["group"]["kind"]: c["count"] for c in compute(sess, cf.apps, school)}
    assert got == {k: kinds.get(k, 0) for k in ("built", "reused", "promoted")}
    assert got["built"] >= 1 and got["reused"] >= 1 and got["promoted"] == 1
    other = {c["group"]["kind"]: c["count"] for c in compute(sess, cf.apps, world["schools"][1])}
    assert other["reused"] >= 2 and other["promoted"] == 0  # the promoted app and the leave template, cloned


def test_core_figures_declare_the_contract(ctx):
    from foundation.cockpit.core_figures import CORE_FIGURES
    from foundation.district_figures import _check

    sess, school = ctx
    assert len({f["key"] for f in CORE_FIGURES}) == len(CORE_FIGURES)
    for spec in CORE_FIGURES:
        assert set(spec["title"]) == {"zh", "en"} and spec["tile"] in {"people", "alerts", "communication", "apps"}
        assert spec["sensitive"] == spec["key"].endswith(("_psychology", "_aid"))
        assert spec.get("capability") == {"_psychology": "wellbeing.answers.read",  # who sees it in a school
                                          "_aid": "aid.coverage.read"}.get(spec["key"][spec["key"].rfind("_"):])
        _check(compute(sess, spec, school, TERM if spec.get("periods") else None), spec["key"])  # no person


# -- the plugins --------------------------------------------------------------------------------------------

def _plugin_specs():
    from foundation.plugin_runtime import host

    return {s["key"]: (plugin, s) for plugin, specs in host().each("jizuo_district_figures") for s in specs or []}


def test_plugin_figures_only_where_enabled(ctx, world):
    from foundation.district_figures import _check, figures_for
    from foundation.plugin_runtime import enabled_schools

    sess, school = ctx
    specs = _plugin_specs()
    assert {p for p, _s in specs.values()} == set(world["plugins"])
    tiles = {"conduct": "points", "aid": "aid", "wellbeing": "wellbeing", "learning": "learning",
             "afterschool": "afterschool"}
    for key, (plugin, spec) in specs.items():
        assert enabled_schools(plugin) == {school}
        assert tiles[spec["tile"]] == plugin and spec["sensitive"] == (plugin in ("aid", "wellbeing")), key
        _check(compute(sess, spec, school, TERM if spec.get("periods") else None), key)
    for figure in figures_for(sess, world["schools"], set(specs)):
        assert [s["school_id"] for s in figure["schools"]] == [school], figure["key"]


def test_conduct(ctx):
    from plugins.points import faces, standing
    from plugins.points.models import entries

    sess, school = ctx
    groups = names(sess, school)
    with sess.begin_nested():
        from foundation.plugin_runtime import FOR_SCHOOL

        with FOR_SCHOOL.for_school(sess, school):
            ranked = standing.ranking(sess, [school], "school")
    want = defaultdict(list)
    for r in ranked:
        band = next(label for lo, label in faces.BANDS if r["score"] >= lo)
        want[(band, groups[r["class_id"]]["grade"], groups[r["class_id"]]["class"])].append(r["score"])
    cells = by_group(compute(sess, faces.score_bands, school), "band", "grade", "class")
    assert {k: (c["count"], c["value"]) for k, c in cells.items()} == {
        k: (len(v), round(sum(v) / len(v), 1)) for k, v in want.items()}
    assert len({k[0] for k in cells}) >= 3
    month = {"start": date.today().replace(day=1) - timedelta(days=40), "end": date.today() + timedelta(days=1),
             "label": "recent"}
    start, end = faces._utc(month["start"]), faces._utc(month["end"])
    rows = sess.execute(sa.select(entries).where(entries.c.school_id == school)).all()
    reversed_ = {r.reverses_id for r in rows if r.reverses_id}
    per = Counter((r.class_id, r.dimension) for r in rows
                  if start <= r.occurred_at < end and r.reverses_id is None and r.id not in reversed_)
    size = Counter(r["class_id"] for r in ranked)
    weeks = (date.today() + timedelta(days=1) - month["start"]).days / 7
    cells = compute(sess, faces.entries_per_week, school, month)
    inverse = {(g["grade"], g["class"]): cid for cid, g in groups.items()}
    assert sum(per.values()) > 0 and len(reversed_) == 3
    for c in cells:
        cid = inverse[(c["group"]["grade"], c["group"]["class"])]
        assert c["count"] == size[cid]
        assert c["value"] == round(per[(cid, c["group"]["dimension"])] / size[cid] / weeks, 3)


def test_aid_coverage(ctx):
    from plugins.aid import faces
    from plugins.aid.review import coverage

    sess, school = ctx
    cells = {c["group"]["confirmed"]: c["count"] for c in compute(sess, faces.coverage_figure, school)}
    with sess.begin_nested():
        from foundation.plugin_runtime import FOR_SCHOOL

        with FOR_SCHOOL.for_school(sess, school):
            cov = coverage(sess, school)
    assert cov["confirmed"] > 0 and 0 < cov["covered"] <= cov["confirmed"]  # the demo's reviewed month
    assert cells == {"covered": cov["covered"], "not_yet": cov["confirmed"] - cov["covered"]}


def test_wellbeing(ctx):
    from plugins.wellbeing import faces
    from plugins.wellbeing.models import Screening, responses
    from plugins.wellbeing.screening import roster

    sess, school = ctx
    latest = sess.scalar(sa.select(sa.func.max(Screening.id)).where(Screening.school_id == school))
    rows = sess.execute(sa.select(responses).where(responses.c.screening_id == latest)).all()
    want = Counter(r.level or "none" for r in rows)
    cells = {c["group"]["level"]: c["count"] for c in compute(sess, faces.levels_per_school, school)}
    assert cells == {lvl: want.get(lvl, 0) for lvl in ("none", "yellow", "red")} and sum(want.values()) > 0
    screening = sess.scalar(sa.select(Screening).where(Screening.id == latest))
    with sess.begin_nested():
        from foundation.plugin_runtime import FOR_SCHOOL

        with FOR_SCHOOL.for_school(sess, school):
            kids = roster(sess, screening)
    groups = names(sess, school)
    per = defaultdict(lambda: [0, 0])
    for k in kids:
        per[groups[k["class_id"]]["grade"]][0] += 1
        per[groups[k["class_id"]]["grade"]][1] += int(k["state"] == "submitted")
    cells = compute(sess, faces.completion, school)
    assert {c["group"]["grade"]: (c["count"], c["value"]) for c in cells} == {
        g: (n, round(100 * done / n, 1)) for g, (n, done) in per.items()}
    period = {"start": screening.opens_on, "end": screening.opens_on + timedelta(days=1), "label": "day"}
    assert compute(sess, faces.completion, school, period) == cells
    same_day = sess.scalars(sa.select(Screening.id).where(Screening.school_id == school,
                                                          Screening.opens_on == screening.opens_on)).all()
    if same_day == [latest]:  # each student's latest response to the period's screenings: this one's
        assert compute(sess, faces.levels_per_school, school, period) == compute(sess, faces.levels_per_school, school)
    assert all(c["count"] == 0 for c in compute(sess, faces.levels_per_school, school, LONG_AGO))
    assert compute(sess, faces.completion, school, LONG_AGO) == []


def test_value_added_matches_the_plugins_own(ctx):
    from plugins.learning import faces
    from plugins.learning.valueadded import _mean_ci, frame

    sess, school = ctx
    cells = {c["group"]["subject"]: c for c in compute(sess, faces.value_added, school)}
    for subject in ("math", "chinese"):
        with sess.begin_nested():
            from foundation.plugin_runtime import FOR_SCHOOL

            with FOR_SCHOOL.for_school(sess, school):
                df = frame(sess, subject)
        want = _mean_ci((df["post"] - df["pre"]).to_numpy(dtype=float))
        got = cells[subject]
        assert want["n"] > 0 and got["count"] == want["n"]
        assert math.isclose(got["value"], want["estimate"], abs_tol=0.011)
        assert math.isclose(got["low"], want["low"], abs_tol=0.011) and math.isclose(got["high"], want["high"],
                                                                                      abs_tol=0.011)
    spec = _plugin_specs()["learning.value_added"][1]
    assert spec["rollup"] == "none" and spec["chart"] == "interval"
    gains = {c["group"]["subject"]: (c["count"], c["value"]) for c in compute(sess, faces.gain_by_subject, school)}
    assert gains == {k: (c["count"], c["value"]) for k, c in cells.items()}


def test_mastery_by_group(ctx):
    from plugins.learning import catalogue, faces
    from plugins.learning.models import Mastery

    sess, school = ctx
    with sess.begin_nested():
        from foundation.plugin_runtime import FOR_SCHOOL

        with FOR_SCHOOL.for_school(sess, school):
            top = catalogue.groups(sess)
    acc = defaultdict(lambda: [set(), 0.0, 0])
    for m in sess.scalars(sa.select(Mastery).where(Mastery.school_id == school)):
        if m.code in top:
            a = acc[top[m.code].code]
            a[0].add(m.student_id)
            a[1] += m.p
            a[2] += 1
    cells = {c["group"]["knowledge_group"]: (c["count"], c["value"]) for c in compute(sess, faces.mastery_by_group,
                                                                                      school)}
    assert cells == {g: (len(who), round(total / n, 3)) for g, (who, total, n) in acc.items()} and cells


def test_afterschool(ctx):
    from plugins.afterschool import figures
    from plugins.afterschool.models import Attendance, Choice, Course, Session

    sess, school = ctx
    month = {"start": date.today().replace(day=1), "end": date.today() + timedelta(days=1), "label": "month"}
    for period in (TERM, month):
        terms = set(figures._terms(period))
        courses = [c for c in sess.scalars(sa.select(Course).where(Course.school_id == school))
                   if c.active and c.term in terms]
        held = [s for s in sess.scalars(sa.select(Session).where(Session.school_id == school))
                if period["start"] <= s.day < period["end"]]
        want = Counter((c.term, c.category) for c in courses)
        hours = Counter()
        for s in held:
            c = next((c for c in courses if c.id == s.course_id), None)
            if c is not None:
                hours[(c.term, c.category)] += s.hours
        cells = by_group(compute(sess, figures.courses_held, school, period), "term", "category")
        assert {k: (c["count"], c["value"]) for k, c in cells.items()} == {
            k: (n, round(hours[k], 1)) for k, n in want.items()}
        marks = Counter(a.status for a in sess.scalars(sa.select(Attendance).where(
            Attendance.session_id.in_([s.id for s in held]))))
        got = {c["group"]["status"]: c["count"] for c in compute(sess, figures.attendance, school, period)}
        assert got == dict(marks)
        term_of = {c.id: (c.term, c.category) for c in courses}
        kids = defaultdict(set)
        for ch in sess.scalars(sa.select(Choice).where(Choice.school_id == school, Choice.status == "enrolled")):
            if ch.course_id in term_of:
                kids[term_of[ch.course_id]].add(ch.student_id)
        got = by_group(compute(sess, figures.categories, school, period), "term", "category")
        assert {k: c["count"] for k, c in got.items()} == {k: len(kids.get(k, ())) for k in want}
        enrolled = defaultdict(set)
        for (t, _cat), who in kids.items():
            enrolled[t] |= who
        got = by_group(compute(sess, figures.participation, school, period), "term", "enrolled")
        assert {t: c["count"] for (t, e), c in got.items() if e} == {t: len(enrolled.get(t, ())) for t, _c in want}
    assert compute(sess, figures.courses_held, school, LONG_AGO) == []
    assert sum(c["count"] for c in compute(sess, figures.courses_held, school, TERM)) > 0
