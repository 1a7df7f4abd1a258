"""PHQ-9 and GAD-7 as low-code templates: the psychology teacher clones PHQ-9 and adds the school's own
questions; the platform refuses, in words, a clone that changes or removes a scored item or the audience; a
screening takes the clone, the student answers on the plugin's page, the plugin scores it exactly as before
(item 9 → red) and keeps the extra answers for the psychology staff. No core path that lists low-code
submissions (the form's results, /my/submissions, the submissions API, the app's view, the profile) shows
any answer to anyone, role by role: the answers never become a low-code submission."""
from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.wellbeing.conftest import sample_student, scale_clone, set_birth

MARK = "和奶奶一起包饺子XQ"  # the student's answer to the school's own question
ROLES = ("school_admin", "principal", "homeroom_teacher", "subject_teacher", "grade_head", "dean", "parent",
         "student", "psychology_teacher")


@pytest.fixture
def clone(app, installed, users) -> dict:
    return scale_clone(app, users("psychology_teacher"), "PHQ-9")


def _put(user, form: dict, schema: dict, app: dict | None = None, ui: dict | None = None):
    return user.put(f"/api/v1/forms/{form['id']}", json={"schema": schema, "ui_schema": ui or form["ui"],
                                                               "app": app if app is not None else form["app"]})


def test_a_clone_keeps_the_scored_items(clone, users):
    psych = users("psychology_teacher")
    changed = copy.deepcopy(clone["schema"])
    changed["properties"]["item9"]["oneOf"] = changed["properties"]["item9"]["oneOf"][:2]
    saved = _put(psych, clone, changed).get_json()
    assert "schema/properties/item9" in saved["problems"]  # the editor's save says it before a publish
    refused = psych.post(f"/api/v1/forms/{clone['id']}/publish")
    assert refused.status_code == 422
    why = refused.get_json()["error"]["fields"]["schema/properties/item9"]
    assert "有不如死掉" in why and "锁定" in why and "不能修改" in why, why
    removed = copy.deepcopy(clone["schema"])
    del removed["properties"]["item1"]
    removed["required"].remove("item1")
    _put(psych, clone, removed)
    why = psych.post(f"/api/v1/forms/{clone['id']}/publish", lang="en").get_json()
    assert "cannot remove" in why["error"]["fields"]["schema/properties/item1"]
    _put(psych, clone, clone["schema"], {"audience": {"private": True}})  # fillable by the platform: refused
    assert "app/audience/plugin" in psych.post(f"/api/v1/forms/{clone['id']}/publish").get_json()["error"]["fields"]


def _with_questions(clone: dict) -> dict:
    schema = copy.deepcopy(clone["schema"])
    schema["properties"]["happy"] = {"type": "string", "title": "最近最开心的一件事",
                                     "x-jizuo-title": {"zh": "最近最开心的一件事", "en": "A happy moment lately"}}
    schema["properties"]["sleep"] = {"type": "integer", "title": "平均每晚睡几个小时", "minimum": 0, "maximum": 14}
    schema["properties"]["club"] = {"type": "string", "title": "参加社团", "oneOf": [
        {"const": "yes", "title": "参加"}, {"const": "no", "title": "没有参加"}]}
    schema["required"] = [*schema["required"], "sleep"]
    return schema


def test_a_screening_on_the_clone_scores_and_keeps_the_school_questions(clone, app, users, db_session, demo):
    from foundation.models import Submission
    from plugins.wellbeing.models import Response

    psych = users("psychology_teacher")
    ui = {**clone["ui"], "ui:order": [f"item{n}" for n in range(1, 10)] + ["happy", "sleep", "club"]}
    assert _put(psych, clone, _with_questions(clone), ui=ui).get_json()["problems"] == {}
    assert psych.post(f"/api/v1/forms/{clone['id']}/publish").status_code == 201
    kid = sample_student(db_session, demo)
    set_birth(db_session, kid.id, 16, whole_class=True)
    today = date.today()
    body = {"form_id": clone["id"], "class_ids": [kid.class_id], "opens_on": today.isoformat(),
            "closes_on": (today + timedelta(days=3)).isoformat()}
    assert psych.post("/wellbeing/api/screenings", json={**body, "form_id": clone["template"]}).status_code == 422
    assert "instrument" in psych.post("/wellbeing/api/screenings", json={**body, "instrument": "gad7"}
                                      ).get_json()["error"]["fields"]
    free = psych.post("/wellbeing/api/screenings", json={**body, "extra_questions": [{"zh": "随便问问"}]})
    assert "克隆" in free.get_json()["error"]["fields"]["extra_questions"]  # the clone is the one way
    assert f'value="form:{clone["id"]}"' in psych.client.get("/wellbeing/").get_data(as_text=True)
    made = psych.post("/wellbeing/api/screenings", json=body)
    assert made.status_code == 201, made.get_json()
    scr = made.get_json()
    assert scr["instrument"] == "phq9" and scr["form_id"] == clone["id"] and scr["title"] == "本校 PHQ-9"
    assert [q["key"] for q in scr["extra_questions"]] == ["happy", "sleep", "club"]

    # the platform's own fill page and submissions API refuse everyone: one path, the plugin's
    student = users("student")
    assert student.post(f"/api/v1/forms/{clone['id']}/submissions", json={"data": {}}).status_code in (403, 404)
    assert student.client.get(f"/forms/{clone['id']}/fill").status_code in (403, 404)
    page = student.client.get(f"/wellbeing/screenings/{scr['id']}/fill").get_data(as_text=True)
    assert "最近最开心的一件事" in page and "平均每晚睡几个小时" in page and "没有参加" in page

    url = f"/wellbeing/api/screenings/{scr['id']}/responses"
    answers = [1, 1, 0, 0, 1, 0, 0, 0, 1]  # total 4, minimal; item 9 → red whatever the total
    bad = student.post(url, json={"answers": answers, "extra": {"happy": MARK, "club": "maybe"}})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"extra.sleep", "extra.club"}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
    ok = student.post(url, json={"answers": answers, "extra": {"happy": MARK, "sleep": 6, "club": "no"}})
    assert ok.status_code == 201, ok.get_json()
    row = db_session.scalar(sa.select(Response).where(Response.student_id == kid.id))
    assert (row.total, row.band, row.level, row.reasons) == (4, "minimal", "red", ["item9"]) and row.case_id
    assert row.extra == {"happy": MARK, "sleep": 6, "club": "no"}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Submission)
                             .where(Submission.form_id == clone["id"])) == 0

    shown = psych.client.get(f"/wellbeing/students/{kid.id}").get_data(as_text=True)
    assert MARK in shown and "没有参加" in shown and "平均每晚睡几个小时" in shown
    for role in ROLES:
        u = users(role)
        for path in (f"/api/v1/forms/{clone['id']}/submissions", f"/forms/{clone['id']}/submissions",
                     f"/api/v1/forms/{clone['id']}/view", "/my/submissions", "/api/v1/flow/submissions",
                     f"/api/v1/students/{kid.id}/profile", f"/students/{kid.id}", f"/alerts/{row.case_id}"):
            resp = u.client.get(path)
            assert resp.status_code < 500, (role, path)
            # the profile's wellbeing section (the plugin's, for the psychology staff) is the one exception
            assert (MARK in resp.get_data(as_text=True)) == (role == "psychology_teacher" and "profile" in path), \
                (role, path)
        assert (MARK in u.client.get(f"/wellbeing/students/{kid.id}").get_data(as_text=True)) \
            == (role == "psychology_teacher"), role
    assert json.dumps(row.extra, ensure_ascii=False).count(MARK) == 1


def test_the_lock_rule_itself():
    """The platform's rule on any template: a locked item equal passes, changed or removed is named (with
    its label when it is a field), and anything unlocked is the clone's to change."""
    from foundation.lowcode.locks import problems

    tpl = {"schema": {"properties": {"a": {"type": "integer", "x-jizuo-title": {"zh": "甲", "en": "A"}},
                                     "b": {"type": "string"}}},
           "ui_schema": {"a": {"ui:widget": "radio"}}, "app": {"audience": {"plugin": "x"}},
           "locked": ["/schema/properties/a", "/ui_schema/a", "/app/audience/plugin"]}
    same = {"properties": {"a": {"type": "integer", "x-jizuo-title": {"zh": "甲", "en": "A"}}, "c": {"type": "string"}}}
    assert problems(tpl, same, {"a": {"ui:widget": "radio"}}, {"audience": {"plugin": "x", "see": ["dean"]}}) == {}
    got = problems(tpl, {"properties": {"a": {"type": "number"}}}, {}, {"audience": {}})
    assert got == {"schema/properties/a": "lowcode.locked_changed:甲|A",
                   "ui_schema/a": "lowcode.locked_removed:/ui_schema/a|/ui_schema/a",
                   "app/audience/plugin": "lowcode.locked_removed:/app/audience/plugin|/app/audience/plugin"}
