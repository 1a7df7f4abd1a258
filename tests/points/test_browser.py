"""The points plugin in a real browser: a late check-in arrives through the ingest API and the class board
shows the new score and rank without a reload; a parent sees only their child; an appeal is accepted and an
entry reversed from the pages; the ranking page matches hand-written SQL; the rulebook editor saves a new
version and the entry form records a credit. Screenshots land in test-artifacts/."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import browser_login, login_of, wait_for_js
from tests.points.conftest import ago, sample_student
from tests.points.test_standing import HAND_SQL, fill

pytestmark = pytest.mark.browser




def _cell(page, student_id: int, cls: str) -> str:
    return page.inner_text(f'#board tr[data-student="{student_id}"] td.{cls}')


def test_late_check_in_shows_on_the_class_board_without_a_reload(app, installed, users, db_session, demo, sources,
                                                                    live_server, page, shot):
    fill(app, installed)
    kid = sample_student(db_session, demo)
    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    assert "德育积分" in page.inner_text("main")  # the home-page widget, linking to the board
    shot(page, "points-home-widget")
    page.click('a[href="/points/"]')
    page.wait_for_selector(f'#board tr[data-student="{kid.id}"]')
    before = int(_cell(page, kid.id, "score"))
    page.evaluate("window.__sameDocument = true")
    resp = users("school_admin", 0).post("/api/v1/ingest/attendance?source=classroom_terminal", json=[
        {"source_id": "browser-late-1", "student": kid.student_no, "occurred_at": ago(minutes=3), "status": "late",
         "minutes_late": 12}])
    assert resp.status_code == 200 and resp.get_json()["created"] == 1
    wait_for_js(page, f"""(() => {{ const c = document.querySelector('#board tr[data-student="{kid.id}"] td.score');
                          return c && Number(c.textContent) === {before - 2}; }})()""", timeout=10)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    term = users("school_admin", 0).get("/points/api/rulebook").get_json()["rulebook"]["term"]["start"]
    want = {r.student_id: r.rank for r in db_session.execute(sa.text(HAND_SQL.format(part="s.class_id")),
                                                              {"term": term, "school": kid.school_id})}
    wait_for_js(page, f"""Number(document.querySelector('#board tr[data-student="{kid.id}"] td.rank')
                          .textContent) === {want[kid.id]}""", timeout=10)
    ranks = {int(tr.get_attribute("data-student")): int(tr.query_selector("td.rank").inner_text())
             for tr in page.query_selector_all("#board tbody tr")}
    assert ranks == {s: r for s, r in want.items() if s in ranks} and len(ranks) > 5
    assert page.locator("#board svg.spark").count() == len(ranks)
    shot(page, "points-board")

    page.goto(f"{live_server}/points/students/{kid.id}")
    page.wait_for_selector("#a-entries tbody tr")
    assert "12 分钟" in page.inner_text("#a-entries") and page.inner_text("#a-score") == str(before - 2)
    shot(page, "points-archive-staff")


def test_parent_sees_only_their_child_and_an_appeal_and_a_reversal_work(app, installed, users, db_session, demo,
                                                                          live_server, browser, shot):
    fill(app, installed)
    kid = sample_student(db_session, demo)
    teacher_api = users("homeroom_teacher", 0)
    wrong = teacher_api.post("/points/api/entries", json={"student_id": kid.id, "rule_code": "class_order",
                                                          "reason": "上课讲话"}).get_json()
    other = db_session.scalar(sa.select(sa.text("id")).select_from(sa.text("students")).where(
        sa.text(f"class_id = {kid.class_id} AND id != {kid.id}")).limit(1))
    other_name = db_session.scalar(sa.text(f"SELECT name FROM students WHERE id = {other}"))

    parent_ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    parent = parent_ctx.new_page()
    browser_login(parent, live_server, login_of(demo, "parent"))
    parent.goto(f"{live_server}/points/")
    parent.wait_for_url(f"{live_server}/points/me")
    text = parent.inner_text("main")
    assert kid.name in text and str(wrong["score"]) in text and other_name not in text
    assert "名次" not in text.replace("看不到名次", "")
    shot(parent, "points-parent-me")
    assert parent.goto(f"{live_server}/points/students/{other}").status == 404
    assert parent.goto(f"{live_server}/points/classes/{kid.class_id}").status in (403, 404)
    assert parent.goto(f"{live_server}/points/rankings").status in (403, 404)
    parent.goto(f"{live_server}/points/students/{kid.id}")
    parent.wait_for_selector(f'tr[data-entry="{wrong["id"]}"] button[data-appeal]')
    assert parent.locator("#a-class-rank").count() == 0 and parent.locator("#a-school-rank").count() == 0
    parent.once("dialog", lambda d: d.accept("孩子当时在回答问题"))
    parent.click(f'tr[data-entry="{wrong["id"]}"] button[data-appeal]')
    parent.wait_for_selector(f'tr[data-entry="{wrong["id"]}"] >> text=✓')
    parent.reload()  # the appeal stays visible, and cannot be made twice
    parent.wait_for_selector(f'tr[data-entry="{wrong["id"]}"] >> text=已申诉')
    assert parent.locator(f'tr[data-entry="{wrong["id"]}"] button[data-appeal]').count() == 0
    shot(parent, "points-parent-archive")

    teacher_ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    teacher = teacher_ctx.new_page()
    browser_login(teacher, live_server, login_of(demo, "homeroom_teacher"))
    teacher.goto(f"{live_server}/points/appeals")
    row = teacher.locator("#appeals tbody tr", has_text="孩子当时在回答问题")
    row.wait_for()
    shot(teacher, "points-appeals")
    row.locator("input[name=note]").fill("经核实，情况属实")
    row.locator("button[data-decision=accept]").click()
    teacher.wait_for_selector("#appeals >> text=" + "没有待处理的申诉。")
    assert teacher_api.get(f"/points/api/students/{kid.id}").get_json()["score"] == wrong["score"] + 5

    # a reversal from the archive page: a new row, the original struck through
    late = teacher_api.post("/points/api/entries", json={"student_id": kid.id, "rule_code": "late",
                                                         "reason": "晨读迟到"}).get_json()
    teacher.goto(f"{live_server}/points/students/{kid.id}")
    teacher.wait_for_selector(f'tr[data-entry="{late["id"]}"] button[data-reverse]')
    teacher.once("dialog", lambda d: d.accept("家长已说明：就医"))
    teacher.click(f'tr[data-entry="{late["id"]}"] button[data-reverse]')
    teacher.wait_for_selector(f'tr.reversed[data-entry="{late["id"]}"]')
    assert "家长已说明：就医" in teacher.inner_text("#a-entries")
    shot(teacher, "points-archive-reversed")
    parent.goto(f"{live_server}/points/me")
    assert str(wrong["score"] + 5) in parent.inner_text("main")
    parent.goto(f"{live_server}/points/students/{kid.id}/report")
    assert "名次" not in parent.inner_text("main") and "所在区间" in parent.inner_text("main")
    shot(parent, "points-parent-report")
    parent_ctx.close()
    teacher_ctx.close()


def test_rankings_page_rulebook_editor_and_entry_form(app, installed, users, db_session, demo, live_server, page, shot):
    fill(app, installed)
    browser_login(page, live_server, login_of(demo, "school_admin"))
    page.goto(f"{live_server}/points/rankings")
    rows = page.query_selector_all("#ranking tbody tr")
    term = users("school_admin", 0).get("/points/api/rulebook").get_json()["rulebook"]["term"]["start"]
    want = {r.student_id: (r.score, r.rank) for r in db_session.execute(
        sa.text(HAND_SQL.format(part="s.school_id")), {"term": term, "school": installed[0]})}
    got = {int(r.get_attribute("data-student")): (int(r.query_selector("td.num").inner_text()),
                                                   int(r.query_selector("td").inner_text())) for r in rows}
    assert got == want
    shot(page, "points-rankings")
    page.click("a.lang")  # the English switch
    page.wait_for_selector("text=Grade and school rankings")
    page.goto(f"{live_server}/points/")
    page.wait_for_selector("#board tbody tr")
    assert "Class rank" in page.inner_text("#board thead")
    shot(page, "points-board-en")
    page.goto(f"{live_server}/points/rankings?lang=zh")

    page.goto(f"{live_server}/points/rulebook")
    late = page.locator("#items tbody tr", has=page.locator("input[name=code][value=late]"))
    late.locator("input[name=points]").fill("-3")
    page.fill("input[name=note]", "迟到改为扣 3 分")
    shot(page, "points-rulebook")
    page.click("#rulebook button[type=submit]")
    page.wait_for_selector("text=v2")
    assert users("school_admin", 0).get("/points/api/rulebook").get_json()["version"] == 2

    kid = sample_student(db_session, demo)
    page.goto(f"{live_server}/points/entry?student_id={kid.id}")
    page.select_option("select[name=rule_code]", "competition")
    assert page.is_hidden("input[name=score]") and page.is_visible("select[name=level]")
    page.select_option("select[name=level]", "provincial")
    page.fill("textarea[name=reason]", "省中学生作文比赛二等奖")
    page.click("#entry-form button[type=submit]")
    page.wait_for_selector("#entry-done >> text=+20")
    shot(page, "points-entry")
    page.goto(f"{live_server}/points/eligibility")
    assert "德育标兵" in page.inner_text("main")
    shot(page, "points-eligibility")


def test_a_seven_day_fall_shows_as_a_yellow_case_in_the_teachers_alerts(app, installed, users, db_session, demo,
                                                                         live_server, page, shot):
    kid = sample_student(db_session, demo)
    teacher = users("homeroom_teacher", 0)
    for n in range(10):  # −50 within the week
        assert teacher.post("/points/api/entries", json={"student_id": kid.id, "rule_code": "class_order",
                                                         "reason": f"第 {n + 1} 次扰乱课堂"}).status_code == 201
    browser_login(page, live_server, login_of(demo, "homeroom_teacher"))
    page.goto(f"{live_server}/alerts")
    main = page.inner_text("main")
    assert kid.name in main and "德育积分周降预警" in main
    shot(page, "points-alert-case")
