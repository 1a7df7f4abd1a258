"""The enrolment forecast and the balanced-development map against numbers worked by hand (docs/cockpit.md),
then on the demo district's tables."""
from __future__ import annotations

import pytest

from foundation.cockpit import balance as B
from foundation.cockpit import forecast as F

# school A: three years of a three-grade school; school B: two years only (takes the district's ratios)
A = {2023: {1: 100, 2: 90, 3: 80}, 2024: {1: 110, 2: 96, 3: 88}, 2025: {1: 120, 2: 108, 3: 95}}
B2 = {2024: {1: 50, 2: 40, 3: 45}, 2025: {1: 60, 2: 48, 3: 38}}
G = [1, 2, 3]


def test_ratios_are_the_mean_of_the_years_and_the_district_pools_them():
    ratios = F.school_ratios(A, G)
    assert ratios[2][0] == pytest.approx((96 / 100 + 108 / 110) / 2) and ratios[2][1] == 2
    assert ratios[3][0] == pytest.approx((88 / 90 + 95 / 96) / 2)
    pooled = F.district_ratios([A, B2], G)
    assert pooled[2] == pytest.approx(252 / 260) and pooled[3] == pytest.approx(221 / 226)


def test_intake_follows_the_trend_from_three_years_and_the_average_below():
    assert F.intake({2021: 100, 2022: 104, 2023: 99, 2024: 110}, 2025) == pytest.approx(109.5)
    assert F.intake({2024: 50, 2025: 60}, 2026) == 55
    assert F.intake({}, 2026) is None
    assert F.intake({2022: 30, 2023: 10, 2024: 0}, 2025) == 0  # a falling trend stops at nobody


def test_next_year_by_cohort_survival():
    a = F.forecast_school(A, G, 2026, F.district_ratios([A, B2], G))
    assert a["grades"] == {1: 130, 2: 117, 3: 106} and a["total"] == 353  # 120×0.97091=116.5; 108×0.98368=106.2
    assert a["ratios"][2]["district"] is False
    b = F.forecast_school(B2, G, 2026, F.district_ratios([A, B2], G))
    assert b["grades"] == {1: 55, 2: 58, 3: 47} and b["total"] == 160  # 60×252/260=58.2; 48×221/226=46.9
    assert b["ratios"][2] == {"ratio": round(252 / 260, 4), "years": 1, "district": True}


def test_backtest_forecasts_each_past_year_from_the_years_before_it():
    test = F.backtest({1: A, 2: B2}, {1: G, 2: G})
    assert test["years"] == [2025]
    # A 2025 from 2023–2024: intake (100+110)/2=105, 110×0.96=105.6→106, 96×88/90=93.9→94; actual 120,108,95
    assert test["schools"][1]["cells"] == [[2025, 1, 105, 120], [2025, 2, 106, 108], [2025, 3, 94, 95]]
    assert test["schools"][1]["mae"] == 6.0 and test["schools"][1]["mape"] == 5.13
    # B 2025 from 2024 alone: intake 50, 50×0.96=48, 40×0.97778=39.1→39; actual 60,48,38
    assert test["schools"][2]["cells"] == [[2025, 1, 50, 60], [2025, 2, 48, 48], [2025, 3, 39, 38]]
    assert test["schools"][2]["mae"] == 3.67 and test["schools"][2]["mape"] == 6.43
    assert test["district"] == {"mae": 4.83, "mape": 5.78, "cells": 6}


def test_capacity_flags():
    assert F.over_capacity(353, 130, {"total_places": 340, "entry_places": 125}) == ["total", "entry"]
    assert F.over_capacity(160, 55, {"total_places": 200, "entry_places": 60}) == []
    assert F.over_capacity(160, 55, {"total_places": None, "entry_places": None}) == []


def test_balance_per_student_and_the_weighted_coefficient_of_variation():
    rows = [{"id": 1, "stage": "primary", "students": 100, "facilities": {"sports_area": 600.0}},
            {"id": 2, "stage": "primary", "students": 300, "facilities": {"sports_area": 3000.0}}]
    got = B.compare(rows, B.standards_for({}))
    s1, s2 = (r["indicators"]["sports_area"] for r in got["schools"])
    assert s1["value"] == 6.0 and s1["below"] is True and s2["value"] == 10.0 and s2["below"] is False
    # weighted mean (100×6 + 300×10)/400 = 9; S = √((100×9 + 300×1)/400) = √3; CV = √3/9 = 0.192
    cv = got["groups"]["primary"]["sports_area"]
    assert cv["mean"] == 9.0 and cv["cv"] == 0.192 and cv["limit"] == 0.5 and cv["ok"] is True
    assert got["groups"]["primary"]["library_books"]["cv"] is None  # nobody reported books


def test_the_district_standard_overrides_the_national_default():
    std = B.standards_for({("primary", "sports_area"): 5.0})
    assert std["primary"]["sports_area"] == 5.0 and std["junior"]["sports_area"] == 10.2
    assert std["senior"]["sports_area"] is None  # no national figure: not marked until the district sets one


def test_demo_district_is_forecast_and_one_school_is_over_capacity(app):
    from foundation import db
    from foundation.models import OrgUnit
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = db.session()
        with unscoped("test reads the demo schools").on(sess):
            schools = sorted(sess.scalars(OrgUnit.__table__.select().with_only_columns(OrgUnit.id)
                                          .where(OrgUnit.kind == "school")))
        got = F.district_forecast(sess, schools, district=True)
        assert got["year"] == got["base_year"] + 1 and len(got["schools"]) == len(schools)
        first = got["schools"][0]
        assert len(first["history"]) == 4 and first["over"]  # three past years and this one; flagged
        assert got["over"] == [first["id"]]
        assert got["backtest"]["district"]["mape"] is not None and got["backtest"]["years"]
        bal = B.district_balance(sess, schools, district=True)
        assert [r["id"] for r in bal["schools"] if r["below"]] == [schools[1]]


def test_pages_exports_and_a_principal_sees_only_their_school(app, demo, login):
    from io import BytesIO

    from openpyxl import load_workbook

    ids = sorted({e["school_id"]: e["school"] for e in demo["logins"] if e["school_id"]}.items())
    (_, a_name), (b, b_name) = ids[0], ids[1]
    auth = login("district_admin")
    page = auth.client.get("/cockpit/forecast").get_data(as_text=True)
    assert a_name in page and b_name in page and 'id="plan-totals"' in page and "echarts.min.js" in page
    assert page.index("echarts.min.js") < page.index("cockpit_plan.js")  # ECharts first: deferred scripts run in order
    balance = auth.client.get("/cockpit/balance").get_data(as_text=True)
    assert a_name in balance and b_name in balance and "plan-red" in balance
    book = load_workbook(BytesIO(auth.client.get("/cockpit/forecast/export.xlsx?table=schools").data))
    rows = list(book.active.values)
    assert rows[0][0] == "学校" and {rows[1][0], rows[2][0]} == {a_name, b_name}
    csv_text = auth.client.get("/cockpit/balance/export.csv?table=cv").data.decode("utf-8-sig")
    assert csv_text.startswith("学段,指标")
    assert auth.client.get("/cockpit/forecast/export.pdf").status_code == 404
    assert auth.client.get("/cockpit/forecast/export.csv?table=nope").status_code == 400
    # a bad CSV names the line and the field, and writes nothing
    bad = auth.client.post("/cockpit/plan/import", data={"kind": "enrolment", "csrf_token": auth.csrf,
                                                         "csv": "school_code,school_year,grade,students\nX,2020,1,3\n"},
                           headers={"X-CSRFToken": auth.csrf})
    assert bad.status_code == 422 and "school_code" in bad.get_data(as_text=True)
    auth.client.post("/logout", headers={"X-CSRFToken": auth.csrf})

    principal = login("principal", school=0)
    client = principal.client
    mine = client.get(f"/cockpit/forecast?school={b}").get_data(as_text=True)
    assert a_name in mine and b_name not in mine
    assert b_name not in client.get(f"/cockpit/forecast/export.csv?table=grades&school={b}").data.decode("utf-8-sig")
    assert b_name not in client.get(f"/cockpit/balance?school={b}").get_data(as_text=True)
    assert client.post("/cockpit/balance/standard", data={"stage": "primary", "indicator": "sports_area", "value": "1"},
                       headers={"X-CSRFToken": principal.csrf}).status_code == 403


def test_a_teacher_has_no_planning_page_and_the_standard_is_the_districts(app, login):
    client = login("subject_teacher").client
    assert client.get("/cockpit/forecast").status_code == 403
    auth = login("district_admin")
    h = {"X-CSRFToken": auth.csrf}
    assert auth.client.post("/cockpit/balance/standard", data={"stage": "primary", "indicator": "sports_area",
                                                               "value": "abc"}, headers=h).status_code == 400
    assert auth.client.post("/cockpit/balance/standard", data={"stage": "primary", "indicator": "sports_area",
                                                               "value": "99"}, headers=h).status_code == 302
    page = auth.client.get("/cockpit/balance/export.csv?table=cv").data.decode("utf-8-sig")
    assert "小学,生均体育运动场馆面积,99," in page


def test_tiles_for_the_cockpits(app, login):
    from flask import g

    from admin.cockpit_plan import balance_tile, forecast_tile
    from foundation import db
    from foundation.tenancy import set_scope

    auth = login("district_admin")
    with auth.client:
        auth.client.get("/cockpit/forecast")
        set_scope(db.session(), g.principal.scope())  # as during a request (the cockpit calls the tiles in one)
        tile = forecast_tile(db.session(), g.principal)
        assert tile["value"] == 1 and tile["tone"] == "red" and tile["link"] == "/cockpit/forecast"
        assert "MAPE" in tile["note"] and len(tile["bars"]) == 2 and all(isinstance(n, int) for _, n in tile["bars"])
        tile = balance_tile(db.session(), g.principal)
        assert tile["value"] == 1 and tile["tone"] == "red" and tile["bars"]
    teacher = login("subject_teacher")
    with teacher.client:
        teacher.client.get("/")
        set_scope(db.session(), g.principal.scope())
        assert forecast_tile(db.session(), g.principal) == {} and balance_tile(db.session(), g.principal) == {}


def test_the_figures_held_download_in_the_import_format_and_load_back(app, login):
    principal = login("principal")
    assert principal.client.post("/cockpit/plan/import", data={"kind": "facilities", "csv": "sports_area\n1\n"},
                                 headers={"X-CSRFToken": principal.csrf}).status_code == 403
    admin = login("school_admin")  # a school's admin loads their own school's figures, no school code needed
    assert admin.client.post("/cockpit/plan/import", data={"kind": "facilities", "csv": "sports_area\n1234.5\n"},
                             headers={"X-CSRFToken": admin.csrf}).status_code == 302
    assert ",1234.5," in admin.client.get("/cockpit/plan/facilities.csv").data.decode("utf-8-sig")
    auth = login("district_admin")
    h = {"X-CSRFToken": auth.csrf}
    held = auth.client.get("/cockpit/plan/enrolment.csv").data.decode("utf-8-sig")
    lines = held.strip().splitlines()
    assert lines[0] == "school_code,school_year,grade,students" and len(lines) > 10
    code, year, grade, _ = lines[1].split(",")
    changed = "\n".join([lines[0], f"{code},{year},{grade},77", f"{code},2016,{grade},70"])
    resp = auth.client.post("/cockpit/plan/import", data={"kind": "enrolment", "csv": changed}, headers=h)
    assert resp.status_code == 302
    again = auth.client.get("/cockpit/plan/enrolment.csv").data.decode("utf-8-sig")
    assert f"{code},{year},{grade},77" in again and f"{code},2016,{grade},70" in again
    fac = auth.client.get("/cockpit/plan/facilities.csv").data.decode("utf-8-sig").splitlines()
    assert fac[0].startswith("school_code,site_area,") and len(fac) == 3
    bad_csv = f"school_code,sports_area,pool\n{code},-3,1\n"
    bad = auth.client.post("/cockpit/plan/import", data={"kind": "facilities", "csv": bad_csv}, headers=h)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "sports_area" in text and "pool" in text


def test_csv_problems_are_named_by_line_and_field():
    text = "school_code,school_year,grade,students\nX,2020,1,3,9\nX,20x,9,-1\nY,2020,1,3\n"
    with pytest.raises(F.PlanningInputError) as err:
        F.parse_enrolment(F.read_csv(text), {"X": {"id": 1, "stage": "primary"}}, None)
    assert {(p["line"], p["field"]) for p in err.value.problems} == {
        (2, "(extra cells)"), (3, "school_year"), (3, "students"), (3, "grade"), (4, "school_code")}
    rows = F.parse_enrolment(F.read_csv("school_year,grade,students\n2024,2,48\n"), {"X": {"id": 1, "stage": "primary"}}, 1)
    assert rows == [{"school_id": 1, "school_year": 2024, "grade": 2, "students": 48}]
