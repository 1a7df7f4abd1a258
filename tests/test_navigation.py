"""Navigation per role: every entry the shell draws opens for that person, and families are not shown the
staff's tools (组织架构, 应用广场, 数据标准 …). One pass per demo role, with the points plugin enabled in the
first school so that plugins' entries are checked too."""
from __future__ import annotations

import re

import pytest

from tests.points.conftest import publish

ROLES = ["district_admin", "school_admin", "homeroom_teacher", "subject_teacher", "psychology_teacher",
         "life_instructor", "grade_head", "dean", "principal", "student_cadre", "student", "parent"]
STAFF_ONLY = {"/org", "/square", "/standards", "/audit", "/conflicts", "/apps", "/district/upstreams", "/classes",
              "/points/"}


def drawn(html: str) -> list[str]:
    """The hrefs of the shell's main navigation."""
    nav = re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S)
    assert nav, "the shell draws a navigation"
    return re.findall(r'href="([^"]+)"', nav.group(1))


def opens(user, href: str) -> int:
    resp = user.client.get(href, follow_redirects=True)
    return resp.status_code


@pytest.fixture
def points_in_first_school(app, users):
    publish(app)
    assert users("school_admin", 0).post("/api/v1/plugins/points/install", json={"config": {}}).status_code == 201


def test_each_role_sees_exactly_what_it_can_open(points_in_first_school, users):
    seen = {}
    for role in ROLES:
        user = users(role, 0)
        hrefs = drawn(user.client.get("/").get_data(as_text=True))
        seen[role] = hrefs
        assert hrefs and hrefs[0] == "/", (role, hrefs)
        for href in hrefs:
            assert opens(user, href) == 200, (role, href)
    for role in ("parent", "student", "student_cadre"):
        assert not STAFF_ONLY & set(seen[role]), (role, seen[role])
        for href in ("/org", "/square", "/standards", "/audit"):  # nor do they open when typed in
            assert users(role, 0).client.get(href).status_code == 403, (role, href)
    assert "/children" in seen["parent"] and "/points/me" in seen["parent"]
    assert "/classes" in seen["homeroom_teacher"] and "/points/" in seen["homeroom_teacher"]
    assert {"/org", "/audit", "/square", "/standards"} <= set(seen["school_admin"])
    # the district at district level: its own tools, none of a school's
    assert {"/org", "/audit", "/square"} <= set(seen["district_admin"])
    assert not {"/classes", "/children", "/points/"} & set(seen["district_admin"])


def test_the_district_home_is_an_overview_and_entering_a_school_changes_the_menu(points_in_first_school, users):
    district = users("district_admin", 0)
    home = district.client.get("/")
    assert home.status_code == 200  # a page of its own, no longer a redirect to the org tree
    html = home.get_data(as_text=True)
    assert "示范区" in html and 'action="/district/enter"' in html
    school = int(re.search(r'name="school_id" value="(\d+)"', html).group(1))
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert district.client.post("/district/enter", data={"school_id": school, "csrf_token": token}).status_code == 302
    for href in drawn(district.client.get("/").get_data(as_text=True)):
        assert opens(district, href) == 200, href


def test_the_org_tree_links_only_the_classes_one_can_open(users):
    teacher = users("homeroom_teacher", 0)
    html = teacher.client.get("/org").get_data(as_text=True)
    linked = re.findall(r'href="(/classes/\d+)"', html)
    assert linked, "the teacher's own class is a link"
    for href in linked:
        assert teacher.client.get(href).status_code == 200, href
    classes = html.count('class="kind kind-class"')
    assert classes > len(linked)  # the other classes are named, not linked
    for role in ("parent", "student"):
        assert users(role, 0).client.get("/org").status_code == 403  # the org tree is the staff's


def test_a_flashed_message_shows_once_as_a_toast(app, users):
    from flask import flash, redirect

    def saved():
        flash("已保存", "ok")
        flash("nav.home", "error")  # a catalogue key is translated on the page that shows it
        return redirect("/")

    app.add_url_rule("/test-flash", "test_flash", saved)
    parent = users("parent", 0).client
    html = parent.get("/test-flash", follow_redirects=True).get_data(as_text=True)
    assert '<div class="toast toast-ok">已保存</div>' in html
    assert '<div class="toast toast-error" role="alert">首页</div>' in html
    assert 'src="/static/shell/shell.js"' in html
    assert "toast-ok" not in parent.get("/").get_data(as_text=True)
