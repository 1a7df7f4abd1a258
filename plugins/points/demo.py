"""Demo data (``jizuo_demo_data``): a term of realistic conduct history for every student of the given
schools — late arrivals and early leaves from check-in, classroom-order deductions, training-room ones in
vocational schools, weekly hygiene scores, volunteering, competition awards — and a few students per school
whose score falls by 50+ in the last week, so the weekly-drop alert has cases to show.

As a school would have it: the rulebook of the school's stage (rulebooks.json), every entry with a reason in
words, and every event on a school day between 07:30 and 17:30 in the school's time zone (its calendar; the
National Day week and New Year's Day off). Deterministic per seed; bulk inserts (2 × 100 students take well
under a second)."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import OrgUnit, Student, bulk_insert, school_calendar, school_days, utcnow
from plugins.points import rulebook as rb
from plugins.points import standing
from plugins.points.models import entries

# rule code → (weekly rate for an average student, source, recorded by); rules a school's book lacks are skipped
RATES = {"late": (0.30, "attendance", "课堂考勤（自动）"), "early_leave": (0.05, "attendance", "课堂考勤（自动）"),
         "absent": (0.02, "attendance", "课堂考勤（自动）"), "class_order": (0.07, "manual", "班主任"),
         "uniform": (0.05, "manual", "班主任"), "phone": (0.04, "manual", "班主任"),
         "training_room": (0.05, "training", "实训记录（自动）"), "training_safety": (0.01, "training", "实训记录（自动）"),
         "class_duty": (0.08, "manual", "班主任"), "volunteer": (0.15, "activity", "活动记录（自动）"),
         "good_deed": (0.05, "manual", "班主任"), "competition": (0.02, "activity", "活动记录（自动）"),
         "internship": (0.03, "manual", "实习指导教师")}
LEVEL_WEIGHTS = (("school", 50), ("district", 25), ("municipal", 15), ("provincial", 8), ("national", 2))
FALL = [("class_order", 6), ("late", 5), ("absent", 3)]  # −30 −10 −15 = −55 within the last six days

# when, in local school time (minutes after midnight), each kind of thing happens: arrivals before the first
# lesson, early leaves in the afternoon, lessons 08:00–16:30, inspections at the end of the day
DAY = (7 * 60 + 30, 17 * 60 + 30)
WINDOWS = {"late": (7 * 60 + 30, 8 * 60 + 20), "early_leave": (15 * 60, 17 * 60), "absent": (8 * 60, 16 * 60),
           "class_order": (8 * 60, 16 * 60 + 30), "phone": (8 * 60, 16 * 60 + 30), "uniform": (7 * 60 + 40, 8 * 60 + 30),
           "training_room": (9 * 60, 16 * 60 + 30), "training_safety": (9 * 60, 16 * 60 + 30),
           "hygiene": (16 * 60, 17 * 60 + 30), "volunteer": (13 * 60 + 30, 17 * 60 + 30)}
DAYS_OFF = {(10, d) for d in range(1, 8)} | {(1, 1)}  # 国庆 and 元旦, whatever the calendar says

# what a teacher, a terminal or a system writes as the reason (every entry has one, deductions above all)
REASONS = {
    "late": ["早读迟到 {m} 分钟", "第一节课迟到 {m} 分钟", "迟到 {m} 分钟，未说明原因"],
    "early_leave": ["未请假提前离校", "第七节课前离校，未办理请假", "下午提前离校，家长事后补假"],
    "absent": ["无故缺课，已联系家长", "课堂点名未到，无请假记录", "体育课无故缺席"],
    "class_order": ["上课讲话，经提醒仍未改正", "自习课大声喧哗", "上课随意离开座位", "课堂上与同学打闹"],
    "uniform": ["升旗仪式未佩戴红领巾", "周一未按要求穿校服", "未佩戴红领巾，已提醒"],
    "phone": ["课堂上使用手机，已交班主任保管", "课间在教室玩手机游戏", "测验时携带手机"],
    "training_room": ["实训室未穿工作服", "实训结束后未整理工位", "在实训室内饮食", "未按规定登记使用设备"],
    "training_safety": ["未戴护目镜操作车床", "未经指导教师允许启动设备"],
    "class_duty": ["值日认真负责，教室整洁", "主动承担班级图书角整理", "运动会期间协助班级后勤"],
    "volunteer": ["社区图书馆志愿服务", "校运会志愿者", "敬老院慰问活动", "垃圾分类宣传志愿者", "社区义卖活动"],
    "good_deed": ["拾金不昧，归还同学钱包", "主动帮助同学补习功课", "主动清理走廊垃圾", "帮助受伤同学去医务室"],
    "internship": ["企业实习获带教师傅表扬", "实训作品被评为优秀", "技能周展示获好评"],
}
CONTESTS = {"primary": ["作文比赛", "数学思维挑战赛", "科技小发明比赛", "书法比赛", "英语讲故事比赛"],
            "middle": ["数学竞赛", "英语演讲比赛", "科技创新大赛", "篮球联赛", "物理实验技能比赛"],
            "vocational": ["职业技能大赛", "数控技能比赛", "汽车维修技能比赛", "创新创业大赛", "英语演讲比赛"],
            "general": ["数学竞赛", "英语演讲比赛", "科技创新大赛"]}
LEVEL_ZH = {"national": "全国", "provincial": "省级", "municipal": "市级", "district": "区级", "school": "校级"}
AWARDS = ("一等奖", "二等奖", "三等奖", "优胜奖")
AREAS = {"primary": ("教室", "包干区"), "middle": ("教室", "包干区", "宿舍内务"),
         "vocational": ("教室", "包干区", "宿舍内务", "实训室"), "general": ("教室", "包干区")}


def fill(sess: so.Session, school: int, seed: int, now: datetime | None = None) -> int:
    """Write the demo history of one school (giving it its stage's rulebook) and its live scores; returns how
    many entries were written. ``sess`` acts for that school."""
    now = now or utcnow()
    book = _stage_book(sess, school, now.date())
    rows = _history(sess, school, book, random.Random(seed * 7919 + school), now)
    bulk_insert(sess, entries, rows)  # COPY on PostgreSQL: a district's term is millions of rows
    standing.rebuild(sess, school, rb.term_start(book["body"]), book["body"]["starting_score"])
    standing.refresh(sess, school)
    return len(rows)


def _stage_book(sess: so.Session, school: int, today: date) -> dict:
    """The school's rulebook (install gives the one of its stage; a school without one gets it here)."""
    book = rb.current(sess, school)
    if book is None:
        rb.save(sess, school, rb.default_for(sess, school, today), account_id=None, name="系统", note="默认细则")
        book = rb.current(sess, school)
    return book


def _school_days(sess: so.Session, school: int, first: date, now: datetime) -> tuple[list[date], Any]:
    """The school days from ``first`` until now on which a whole school day has passed (today only once it
    is over), and the school's clock."""
    clock = school_calendar(sess, school)
    local_now = now.replace(tzinfo=UTC).astimezone(clock.tz)
    last = local_now.date() if local_now.time() >= time(DAY[1] // 60 + 1, DAY[1] % 60) else \
        local_now.date() - timedelta(days=1)
    days = [d for d in school_days(clock, first, last) if (d.month, d.day) not in DAYS_OFF] if last >= first else []
    return days, clock


def _history(sess: so.Session, school: int, book: dict, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    body = book["body"]
    term = rb.term_start(body)
    days, clock = _school_days(sess, school, term, now)
    if not days:
        return []
    weeks = max(1.0, ((days[-1] - days[0]).days + 1) / 7)
    midnight = {d: datetime.combine(d, time(0), tzinfo=clock.tz).astimezone(UTC).replace(tzinfo=None) for d in days}
    recent = [d for d in days if midnight[d] >= now - timedelta(days=6)] or days[-1:]
    by_week: dict[tuple[int, int], list[date]] = defaultdict(list)
    for d in days:
        by_week[d.isocalendar()[:2]].append(d)
    stage = rb.book_for(sess.scalar(sa.select(OrgUnit.stage).where(OrgUnit.id == school)))
    st = Student.__table__.c
    kids = sess.execute(sa.select(st.id, st.class_id).order_by(st.id)).all()  # the session acts for this school
    items = {i["code"]: i for i in body["items"] if i.get("active", True)}
    caps = body.get("caps", {})
    fallers = set(rng.sample([k.id for k in kids], min(len(kids) // 50, 4))) if len(kids) >= 50 else set()
    rows: list[dict[str, Any]] = []

    def at(day: date, code: str) -> datetime:
        lo, hi = WINDOWS.get(code, DAY)
        return midnight[day] + timedelta(minutes=rng.randrange(lo, hi), seconds=rng.randrange(60))

    def add(kid, code: str, raw: int, when: datetime, source: str, by: str, totals: dict, reason: str) -> None:
        rule = items[code]
        cap = caps.get(rule["dimension"], {})
        have = totals.get(rule["dimension"], 0)
        applied = max(cap.get("min", -10**6), min(cap.get("max", 10**6), have + raw)) - have
        totals[rule["dimension"]] = have + applied
        rows.append({"school_id": school, "student_id": kid.id, "class_id": kid.class_id, "term_start": term,
                     "rulebook_version": book["version"], "rule_code": code, "dimension": rule["dimension"],
                     "raw_points": raw, "points": applied, "reason": reason, "evidence": None, "source": source,
                     "source_ref": None, "recorded_by": None, "recorded_by_name": by, "occurred_at": when,
                     "created_at": when, "reverses_id": None})

    for kid in kids:
        lean = rng.lognormvariate(0, 0.6)  # how often this student slips (a few slip a lot)
        totals: dict[str, int] = {}
        events = []
        for code, (rate, source, by) in RATES.items():
            if code not in items:
                continue
            scale = lean if items[code].get("points", 0) < 0 else 1 / lean
            n = _poisson(rng, rate * scale * weeks)
            events += [(at(rng.choice(days), code), code, source, by) for _ in range(n)]
        if "hygiene" in items:  # the weekly inspection, on the last school day of the week
            events += [(at(week[-1], "hygiene"), "hygiene", "hygiene_form", "卫生委员")
                       for week in by_week.values() if rng.random() < 0.5]
        if kid.id in fallers:
            events += [(at(rng.choice(recent), code), code, RATES[code][1], RATES[code][2])
                       for code, n in FALL if code in items for _ in range(n)]
        for when, code, source, by in sorted(events):
            rule = items[code]
            if rule["kind"] == "scored":
                score = min(10, max(0, round(rng.gauss(8.3, 1.2))))
                raw = rb.points_for(rule, score=score)
                reason = f"周卫生检查 {score} 分（{rng.choice(AREAS[stage])}）"
            elif rule["kind"] == "by_level":
                level = rng.choices([lv for lv, _ in LEVEL_WEIGHTS], [w for _, w in LEVEL_WEIGHTS])[0]
                raw = rb.points_for(rule, level=level)
                reason = f"{LEVEL_ZH[level]}{rng.choice(CONTESTS[stage])}{rng.choice(AWARDS)}"
            else:
                raw = rule["points"]
                reason = rng.choice(REASONS[code]).format(m=rng.randint(3, 25))
            if raw:
                add(kid, code, raw, when, source, by, totals, reason)
    return rows


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method (small λ) or a rounded normal (large λ)."""
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam ** 0.5)))
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
