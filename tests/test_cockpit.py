"""The cockpits (issue 21): the district staff's home is the district cockpit, every school side by side;
its tile pages hold a chart and a table per figure, exported to Excel and CSV with the same figures; the
figures are cached and go stale with the events that change them; sensitive figures are suppressed above
school level and, inside a school, shown only to the roles their plugin lets see them."""
from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import date

import pytest
import sqlalchemy as sa

from foundation.district_figures import FigureError, _check, check_spec, rollup
from tests.conftest import login_of
from tests.test_cockpit_suppression import attack, published_grid

CHARTS = re.compile(r'<script type="application/json" id="cockpit-charts">(.*?)</script>', re.S)


def charts(resp) -> list[dict]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return [c["table"] for c in json.loads(CHARTS.search(resp.get_data(as_text=True)).group(1))["charts"]]


def install(app, users, plugin: str) -> None:
    from foundation import db
    from foundation.models import AppListing
    from foundation.services import square
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        square.list_plugins(sess, app.extensions["jizuo.plugins"].loaded)
        row = sess.scalar(sa.select(AppListing).where(AppListing.key == plugin))
        if row.status != "published":
            for action in ("review", "publish"):
                square.step(sess, row, action, account_id=None, name="district.admin", reason=None)
        sess.commit()
    for index in (0, 1):
        resp = users("school_admin", index).post(f"/api/v1/plugins/{plugin}/install", json={"config": {}})
        assert resp.status_code == 201, resp.get_json()


def test_the_district_home_is_the_cockpit_with_exports_and_a_cache(app, users, demo, db_session):
    from foundation.cockpit.cache import CockpitFigure
    from foundation.models import AuditEntry

    district = users("district_admin")
    home = district.get("/")
    page = home.get_data(as_text=True)
    tiles = re.findall(r'data-tile="(\w+)"', page)
    assert {"people", "alerts", "communication", "apps"} <= set(tiles), tiles
    side = re.findall(r'<tr data-school="(\d+)">', page)
    assert len(side) == 2 and page.count('action="/district/enter"') == 2
    people = next(t for t in charts(home) if t["key"] == "core.students")
    assert people["foot"]["total"] == sum(r["total"] for r in people["rows"]) >= 100 and len(people["rows"]) == 2
    assert "grade" not in json.dumps(people) and "class" not in json.dumps(people["columns"])

    tile = district.get("/cockpit/people")
    table = next(t for t in charts(tile) if t["key"] == "core.students")
    from openpyxl import load_workbook

    xlsx = district.get("/cockpit/people/core.students.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    got = {row[0]: row[1:] for row in sheet.iter_rows(min_row=2, values_only=True) if row and row[0]}
    for r in [*table["rows"], table["foot"]]:
        assert got[r["label"]][0] == r["cells"][0]["count"] and got[r["label"]][-1] == r["total"]
    text = district.get("/cockpit/people/core.students.csv").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[-1][0] == "全区" and int(lines[-1][-1]) == people["foot"]["total"]

    actions = set(db_session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("district.cockpit%"))))
    assert {"district.cockpit.read", "district.cockpit.export"} <= actions

    # cached: a second load computes nothing; an event naming a school makes its figures stale
    before = dict(db_session.execute(sa.select(CockpitFigure.id, CockpitFigure.computed_at)).all())
    assert len(before) >= 2 * 8
    district.get("/")
    db_session.expire_all()
    assert dict(db_session.execute(sa.select(CockpitFigure.id, CockpitFigure.computed_at)).all()) == before
    school = int(side[0])
    with app.app_context():
        from foundation import db, events

        events.publish("conduct.recorded", [{"school_id": school}])
        db.session().commit()
    stale = set(db_session.scalars(sa.select(CockpitFigure.school_id).where(CockpitFigure.stale.is_(True))))
    assert stale == {school}
    district.get("/cockpit/people")
    db_session.expire_all()
    stale_now = set(db_session.scalars(sa.select(CockpitFigure.figure).where(CockpitFigure.stale.is_(True))))
    assert "core.students" not in stale_now  # read again: recomputed
    # served from the cache at once, what went stale recomputed behind the page (as outside tests)
    app.config["COCKPIT_BACKGROUND"] = True
    with app.app_context():
        events.publish("conduct.recorded", [{"school_id": school}])
        db.session().commit()
    assert district.get("/cockpit/people").status_code == 200
    for _ in range(100):
        db_session.expire_all()
        if not db_session.scalar(sa.select(sa.func.count()).select_from(CockpitFigure).where(
                CockpitFigure.stale.is_(True), CockpitFigure.figure == "core.students")):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the background refresh did not recompute the stale figures")
    app.config["COCKPIT_BACKGROUND"] = False
    resp = district.post("/cockpit/refresh", data={"period": "", "tile": "people"})
    assert resp.status_code == 302 and "/cockpit/people" in resp.headers["Location"]

    english = district.get("/cockpit?lang=en").get_data(as_text=True)
    assert "District cockpit" in english and "Schools side by side" in english

    bad = district.get("/cockpit/people?period=2026-13")
    assert bad.status_code == 400 and "period" in bad.get_data(as_text=True)
    assert district.get("/cockpit/nothing").status_code == 404
    assert users("parent").get("/cockpit").status_code == 403
    assert users("homeroom_teacher").get("/cockpit").status_code == 403


def test_sensitive_figures_are_suppressed_above_school_and_kept_to_their_roles(app, users, demo, db_session):
    from foundation.models import AuditEntry, OrgUnit
    from foundation.plugin_runtime import demo_data

    install(app, users, "wellbeing")
    schools = sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    with app.app_context():
        demo_data("wellbeing", schools, seed=7)
    district = users("district_admin")
    tables = charts(district.get("/cockpit/wellbeing"))
    levels = next(t for t in tables if t["key"] == "wellbeing.levels")
    assert levels["sensitive"] and levels["suppressed"] and len(levels["rows"]) == 2
    grid = published_grid(levels)
    assert all(v is None or v == 0 or v >= 5 for row in grid for v in row), grid
    assert any(v is None for row in grid for v in row)  # the demo's few red students are hidden
    for (cell, (low, high)) in attack(grid).items():
        assert high - low >= 1, (cell, low, high)

    # inside a school: the psychology teacher sees the levels by class, the principal does not see them at all
    psych = charts(users("psychology_teacher", 1).get("/cockpit/wellbeing"))
    mine = next(t for t in psych if t["key"] == "wellbeing.levels")
    assert not mine["suppressed"] and all(c["hidden"] is False for r in mine["rows"] for c in r["cells"])
    principal = users("principal", 1)
    cockpit = principal.get("/cockpit")
    assert 'data-tile="wellbeing"' not in cockpit.get_data(as_text=True)
    assert "wellbeing.levels" not in principal.get("/cockpit/wellbeing").get_data(as_text=True)
    assert 'data-tile="people"' in cockpit.get_data(as_text=True)
    people = next(t for t in charts(principal.get("/cockpit/people")) if t["key"] == "core.students")
    assert len(people["rows"]) >= 2 and people["foot"]["label"] == "全校"  # by class

    # district staff see a school's cockpit only after entering it, which is audited
    assert district.post("/district/enter", data={"school_id": schools[0]}).status_code == 302
    inside = district.get("/cockpit").get_data(as_text=True)
    assert 'data-level="school"' in inside
    entered = db_session.scalars(sa.select(AuditEntry.school_id).where(AuditEntry.action == "district.enter_school"))
    assert schools[0] in set(entered)


def test_the_figure_contract_for_the_cockpits():
    cells = _check([{"group": {"grade": "一年级", "class": "一年级(1)班", "level": "red"}, "count": 3, "value": 2.0,
                     "low": 1.0, "high": 3.0},
                    {"group": {"grade": "一年级", "class": "一年级(2)班", "level": "red"}, "count": 1, "value": 4.0}], "k")
    assert cells[0]["low"] == 1.0 and "low" not in cells[1]
    up = rollup(cells)
    assert up == [{"group": {"level": "red"}, "count": 4, "value": 2.5}]  # summed, weighted, interval dropped
    with pytest.raises(FigureError):
        _check([{"group": {"level": "x"}, "count": 1, "low": "high"}], "k")
    with pytest.raises(FigureError):
        check_spec({"key": "k", "compute": len, "tile": "weather"}, "p")
    with pytest.raises(FigureError):
        check_spec({"key": "k", "compute": len, "chart": "pie"}, "p")
    check_spec({"key": "k", "compute": len, "tile": "aid", "chart": "interval", "periods": True, "rollup": "none"}, "p")

    from foundation.cockpit.periods import PeriodError, options, parse, term_of

    assert term_of(date(2026, 12, 6)) == {"start": date(2026, 9, 1), "end": date(2027, 2, 1),
                                          "label": "2026–2027学年第一学期"}
    assert parse("2026-2", date(2027, 3, 1))["start"] == date(2027, 2, 1)
    assert parse("2026-11", date(2026, 12, 6))["end"] == date(2026, 12, 1)
    with pytest.raises(PeriodError):
        parse("2027-1", date(2026, 12, 6))  # not begun
    assert [o["key"] for o in options(date(2026, 12, 6))][:2] == ["2026-1", "2025-2"]


def test_login_names_are_demo_users(demo):
    assert login_of(demo, "district_admin")


def test_the_nightly_refresh_fills_the_cache(runner, db_session):
    from foundation.cockpit.cache import CockpitFigure

    result = runner.invoke(["cockpit", "refresh", "--period", "2026-11"])
    assert result.exit_code == 0, result.output
    assert "2026-11:" in result.output
    periods = set(db_session.scalars(sa.select(CockpitFigure.period)))
    assert {"now", "2026-11"} <= periods
    bad = runner.invoke(["cockpit", "refresh", "--period", "yesterday"])
    assert bad.exit_code != 0 and "--period" in bad.output


def test_a_failing_figure_leaves_the_school_s_other_figures(app, db_session):
    """Figures are computed a school at a time in one savepoint; one that breaks the transaction (an error in
    the database) or is refused (a group naming a person) costs only itself."""
    from foundation import db
    from foundation.cockpit.periods import parse
    from foundation.cockpit.pipeline import Spec, gather
    from foundation.models import OrgUnit, Student
    from foundation.tenancy import unscoped

    def spec(key, fn):
        return Spec(key=key, plugin="core", title={"zh": key}, unit="students", sensitive=False, tile="people",
                    chart="bar", periods=False, keep_intervals=False, compute=fn, caps=())

    def good(sess, school):
        return [{"group": {}, "count": sess.scalar(sa.select(sa.func.count(Student.id)))}]

    def broken(sess, school):
        sess.execute(sa.select(sa.func.jizuo_no_such_function()))

    def leaky(sess, school):
        return [{"group": {"student_id": 1}, "count": 1}]

    with app.test_request_context():
        sess = unscoped("test: the pipeline for the district").mark(db.session())
        schools = sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
        figures = [spec("t.before", good), spec("t.broken", broken), spec("t.leaky", leaky), spec("t.after", good)]
        rows = gather(sess, figures, schools, parse(None))
        sess.commit()
        for school in schools:
            assert rows[("t.before", school)].cells[0]["count"] == rows[("t.after", school)].cells[0]["count"] > 0
            assert rows[("t.broken", school)].cells is None and rows[("t.broken", school)].error
            assert rows[("t.leaky", school)].cells is None and "student_id" in rows[("t.leaky", school)].error


def test_the_worker_s_nightly_upkeep_makes_partitions_and_the_cache(app, db_session):
    """`jizuo worker` runs the upkeep once a night: this month's figures cached, and on PostgreSQL the
    records' partitions made ahead (nothing to make on SQLite)."""
    from datetime import datetime

    from foundation.audit import LOCAL
    from foundation.cli.worker import nightly_upkeep
    from foundation.cockpit.cache import CockpitFigure

    month = f"{datetime.now(LOCAL):%Y-%m}"  # the month under way, in the district's time
    db_session.execute(sa.delete(CockpitFigure).where(CockpitFigure.period == month))
    db_session.commit()
    done = nightly_upkeep(app)
    assert done["cockpit"] and month in set(db_session.scalars(sa.select(CockpitFigure.period)))
    if db_session.bind.dialect.name == "postgresql":
        ahead = db_session.scalars(sa.text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'records'")).all()
        assert len(ahead) >= 4  # this month, three ahead, and the default
