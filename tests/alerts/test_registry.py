"""Alert rules per school: a school's low-code rules exist only in that school (listed, usable, known to
every process because they are read from its published apps), and another school can neither list nor
use them."""
from __future__ import annotations

RULES = "/api/v1/alerts/rules"
SCHEMA = {"type": "object", "required": ["student", "days"],
          "properties": {"student": {"type": "string", "x-jizuo-binding": "student"},
                         "days": {"type": "integer", "minimum": 0, "maximum": 30}}}
APP = {"rules": [{"key": "long_absence", "title": {"zh": "连续缺勤", "en": "Long absence"},
                  "when": {"field": "days", "op": "gte", "value": 3}, "then": {"alert": {"level": "yellow"}}}]}


def _rules(user) -> dict[str, dict]:
    resp = user.get(RULES)
    assert resp.status_code == 200, resp.get_json()
    return {r["key"]: r for r in resp.get_json()["items"]}


def test_a_schools_lowcode_rule_is_that_schools_alone(users, k0, k1):
    own_admin, other_admin = users("school_admin", 1), users("school_admin", 0)
    form = own_admin.post("/api/v1/forms", json={"title": "缺勤登记", "schema": SCHEMA, "app": APP}).get_json()
    assert own_admin.post(f"/api/v1/forms/{form['id']}/publish").status_code == 201
    key = f"lowcode.f{form['id']}.long_absence"
    mine = _rules(own_admin)
    assert mine[key]["lowcode"] is True and mine[key]["title"] == "缺勤登记：连续缺勤"
    # the other school neither sees it (not even its title) nor opens a case under it
    theirs = users("homeroom_teacher", 0)
    assert key not in _rules(other_admin) and key not in _rules(theirs)
    assert "缺勤登记" not in other_admin.get(RULES).get_data(as_text=True)
    resp = theirs.post("/api/v1/alerts/cases", json={"student_id": k0.students[0], "rule": key, "note": "试试"})
    assert resp.status_code == 422 and list(resp.get_json()["error"]["fields"]) == ["rule"]
    # in its own school the rule works from the form and from a teacher's hand
    own_teacher = users("homeroom_teacher", 1)
    resp = own_teacher.post("/api/v1/alerts/cases", json={"student_id": k1.students[0], "rule": key, "note": "缺勤"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["rule"] == key


def test_the_platforms_rules_are_in_every_school(users):
    for school in (0, 1):
        assert "core.manual" in _rules(users("homeroom_teacher", school))
