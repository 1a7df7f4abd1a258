"""The aid plugin in a real browser: a month of card and canteen records arrives through the ingest API, the
daily job identifies (and the aid officer runs it again on demand from the list), the homeroom teacher opens a
candidate from the list, reads why in one line, confirms with a reason and records a talk with the family —
and the student's and the parent's views, on a phone, show nothing of it. Screenshots in /tmp/shots/aid/."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.aid.conftest import homeroom_class, install, last_month, school_days_of
from tests.conftest import browser_login, login_of

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/aid")


def snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def ingest(users, school_id, students, days, poor: set[int]) -> None:
    """Card payments and canteen meals as the card system sends them: one batch per library."""
    rng, meals, pays = random.Random(11), [], []
    for s in students:
        for d in days:
            for meal, hour, base in (("breakfast", 7, 3.0), ("lunch", 12, 8.0), ("dinner", 17, 7.0)):
                if rng.random() >= (0.8 if s.id in poor else 0.95):
                    continue
                cheap = rng.random() < (0.85 if s.id in poor else 0.2)
                price = round(base * (1.0 if cheap else 1.6), 1)
                at = (datetime.combine(d, time(hour, rng.randint(0, 50))) - timedelta(hours=8)).isoformat() + "Z"
                ref = f"{s.id}-{d:%Y%m%d}-{meal}"
                meals.append({"source_id": f"m-{ref}", "student": s.student_no, "occurred_at": at, "meal_type": meal,
                              "price": price, "is_cheapest": cheap, "card_no": f"C{s.id}", "window": "1号窗口"})
                pays.append({"source_id": f"c-{ref}", "student": s.student_no, "occurred_at": at, "card_no": f"C{s.id}",
                             "amount": price, "merchant_type": "canteen", "merchant": "学生食堂"})
    admin = users("school_admin", 0)
    for library, source, rows in (("canteen_meal", "canteen_system", meals), ("card_transaction", "card_system", pays)):
        resp = admin.post(f"/api/v1/ingest/{library}?source={source}", json={"records": rows})
        assert resp.status_code == 200 and resp.get_json()["created"] == len(rows), resp.get_json()


def test_records_to_review_and_the_family_sees_nothing(app, users, db_session, demo, live_server, browser):
    from foundation.jobs import run_due
    from foundation.models import DataSource, OrgUnit, Student

    schools = sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
    install(app, users, schools, db_session, demo)
    for code, name in (("card_system", "一卡通"), ("canteen_system", "食堂结算")):
        db_session.add(DataSource(code=code, name=name))
    db_session.commit()
    hc = homeroom_class(db_session, demo)
    klass = db_session.scalars(sa.select(Student).where(Student.class_id == hc).order_by(Student.id)).all()
    kid_acct = db_session.scalar(sa.text("select person_id from accounts where username = :u"),
                                 {"u": login_of(demo, "student", 0)})
    poor = next(s for s in klass if s.id != kid_acct)
    family_kid = db_session.get(Student, kid_acct)
    students = klass[:25] + ([family_kid] if family_kid not in klass[:25] else [])
    db_session.execute(sa.update(Student).where(Student.id.in_([s.id for s in students])).values(boarding=True))
    db_session.commit()
    ingest(users, schools[0], students, school_days_of(app, schools[0], last_month()), {poor.id, family_kid.id})

    with app.app_context():  # the daily job, as the worker runs it
        runs = run_due(only={"aid.identify"}, schools={schools[0]})
        assert [r.ok for r in runs] == [True], [(r.error, r.detail) for r in runs]
        assert runs[0].detail["previous"]["candidate"] >= 1

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    browser_login(page, live_server, login_of(demo, "dean", 0))  # the aid officer
    page.goto(f"{live_server}/aid/?month={last_month()}")
    page.wait_for_selector(f'tr[data-student="{poor.id}"]')
    with page.expect_navigation():  # on demand: the list comes back recomputed
        page.click("#aid-identify")
    page.wait_for_selector(f'tr[data-student="{poor.id}"]')
    snap(page, "officer-list")
    ctx.close()

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    browser_login(page, live_server, login_of(demo, "homeroom_teacher", 0))
    page.goto(f"{live_server}/aid/")
    row = page.locator(f'tr[data-student="{poor.id}"]')
    line = row.locator("td.aid-line").inner_text()
    assert "低于同年级平均" in line and "最低价" in line and "个在校日中" in line
    row.locator("a").click()
    page.wait_for_selector("#aid-decide")
    page.select_option("#aid-decide select[name=kind]", "confirm")
    page.fill("#aid-decide textarea[name=note]", "家访核实：父亲务工收入不稳定")
    page.click("#aid-decide button[type=submit]")
    page.wait_for_selector("ul.aid-steps li")
    page.select_option("#aid-talk select[name=method]", "home_visit")
    page.fill("#aid-talk textarea[name=note]", "与母亲谈话，愿意申请国家助学金")
    page.click("#aid-talk button[type=submit]")
    page.wait_for_selector("ul.aid-steps li:nth-child(2)")
    steps = page.inner_text("ul.aid-steps")
    assert "家庭谈话" in steps and "确认困难" in steps and "愿意申请国家助学金" in steps
    snap(page, "teacher-review")
    ctx.close()

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = ctx.new_page()  # the school's coverage: counts and a chart, no names
    browser_login(page, live_server, login_of(demo, "school_admin", 0))
    page.goto(f"{live_server}/aid/coverage")
    page.wait_for_selector("#aid-chart[data-drawn] canvas")
    assert page.inner_text("#aid-confirmed") == "1" and poor.name not in page.inner_text("main")
    snap(page, "coverage")
    ctx.close()

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = ctx.new_page()  # the district: counts per school as the platform desensitised them
    browser_login(page, live_server, login_of(demo, "district_admin", 0))
    page.goto(f"{live_server}/aid/district")
    page.wait_for_selector("#aid-district[data-loaded] tbody tr")
    cells = page.inner_text(f'#aid-district tr[data-school="{schools[0]}"]')
    assert "<5" in cells and poor.name not in page.inner_text("main")  # one confirmed: suppressed
    snap(page, "district")
    ctx.close()

    for role in ("student", "parent"):  # on a phone: nothing of it anywhere they can go
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        page = ctx.new_page()
        browser_login(page, live_server, login_of(demo, role, 0))
        home = page.inner_text("body")
        assert "资助" not in home and "潜在困难" not in home
        snap(page, f"{role}-home")
        for path in ("/aid/", f"/aid/students/{family_kid.id}", f"/aid/students/{poor.id}",
                     f"/aid/api/students/{family_kid.id}", "/aid/coverage", "/aid/district"):
            resp = page.goto(f"{live_server}{path}")
            assert resp.status in (403, 404), (role, path, resp.status)
            text = page.inner_text("body")
            assert "潜在困难" not in text and "低于同年级平均" not in text
        resp = page.goto(f"{live_server}/students/{family_kid.id}")
        assert resp.status in (403, 404) or "资助" not in page.inner_text("body")
        snap(page, f"{role}-profile")
        ctx.close()
