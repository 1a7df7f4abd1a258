"""The lottery: a pure function of its seed and inputs (equal chance within a tier, a declared priority tier
first), drawn at the deadline over the families' preferences, recorded, and re-run by whoever holds the audit
right to the same allocation — and a tampered record is caught."""
from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from plugins.afterschool.lottery import allocate
from plugins.afterschool.models import choices, courses, lotteries
from tests.afterschool.conftest import child_of

P = "/afterschool/api"


def _inputs(n: int, seats: int = 1, tiers: dict | None = None) -> dict:
    return {"max": 1, "courses": {"1": {"seats": seats, "slots": [[1, 1]]}},
            "applicants": [{"student": s, "prefs": [1], "tier": (tiers or {}).get(s, 0), "busy": []} for s in range(n)]}


def test_the_draw_is_reproducible_fair_within_a_tier_and_puts_a_priority_tier_first():
    first, steps = allocate(_inputs(30, seats=3), "seed-a")
    assert (first, steps) == allocate(_inputs(30, seats=3), "seed-a")
    assert first != allocate(_inputs(30, seats=3), "seed-b")[0]
    assert Counter(v[0] for v in first.values()) == {"enrolled": 3, "waiting": 27}
    # four applicants for one seat, 4,000 draws: each wins about a quarter of them
    wins = Counter(next(k for k, v in allocate(_inputs(4), f"s{i}")[0].items() if v[0] == "enrolled") for i in range(4000))
    assert all(900 < wins[f"{s}:1"] < 1100 for s in range(4)), wins
    # a declared priority group goes first, whatever the seed
    assert all(allocate(_inputs(20, tiers={13: 1}), f"p{i}")[0]["13:1"][0] == "enrolled" for i in range(50))


def test_a_parent_applies_the_lottery_is_drawn_recorded_and_re_run_to_the_same_result(app, installed, users, db_session,
                                                                                       demo):
    parent, admin = users("parent", 0), users("school_admin", 0)
    kid = child_of(db_session, demo)
    window = next(w for w in parent.get(f"{P}/me").get_json()["items"][0]["windows"] if w["open"])
    robot = next(c for c in window["courses"] if c["title"] == "机器人编程")
    resp = parent.post(f"{P}/windows/{window['id']}/choices", json={"student_id": kid, "courses": [robot["id"]]})
    assert resp.status_code == 200 and resp.get_json()["items"] == [{"course_id": robot["id"], "outcome": "applied", "rank": 1}]
    applicants = db_session.scalar(sa.select(sa.func.count()).select_from(choices).where(
        choices.c.course_id == robot["id"]))
    assert applicants > 2 * robot["capacity"]  # the demo's oversubscribed course
    # not before the deadline, unless the school ends selection now
    assert admin.post(f"{P}/windows/{window['id']}/lottery", json={}).status_code == 422
    drawn = admin.post(f"{P}/windows/{window['id']}/lottery", json={"close_now": True, "seed": "2026-12-06 公证"})
    assert drawn.status_code == 201, drawn.get_json()
    lot = drawn.get_json()["id"]
    db_session.expire_all()
    seated = db_session.execute(sa.select(courses.c.enrolled, courses.c.capacity).where(courses.c.id == robot["id"])).one()
    assert seated.enrolled == seated.capacity
    states = Counter(db_session.scalars(sa.select(choices.c.status).where(choices.c.course_id == robot["id"])))
    assert states["enrolled"] == seated.capacity and states["enrolled"] + states["waiting"] + states["refused"] == applicants
    mine = parent.get(f"{P}/me").get_json()["items"][0]["windows"]
    got = next(c for w in mine if w["id"] == window["id"] for c in w["choices"])
    assert got["status"] == "enrolled" or (got["status"], got.get("position", 0) >= 1) == ("waiting", True) or (
        got["status"], got["reason"]) == ("refused", "clash")  # the child may hold Friday's second period already
    inbox = parent.get("/api/v1/messages/inbox").get_json()["items"]
    assert any("选课结果" in m["subject"] for m in inbox)
    # the record and its re-run (the audit right: the school admin, the principal)
    record = admin.get(f"{P}/lotteries/{lot}").get_json()
    assert record["seed"] == "2026-12-06 公证" and record["steps"][0][0] == "order"
    assert users("principal", 0).get(f"{P}/lotteries/{lot}/rerun").get_json()["same"] is True
    assert parent.get(f"{P}/lotteries/{lot}/rerun").status_code in (403, 404)
    assert users("school_admin", 1).get(f"{P}/lotteries/{lot}/rerun").status_code == 404
    # a record changed afterwards no longer re-runs to what it says
    steps = record["steps"]
    steps[1], steps[2] = steps[2], steps[1]
    db_session.execute(sa.update(lotteries).where(lotteries.c.id == lot).values(steps=steps))
    db_session.commit()
    assert admin.get(f"{P}/lotteries/{lot}/rerun").get_json()["same"] is False
