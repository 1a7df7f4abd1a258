"""The isolation probe's machinery (tests/test_isolation_probe.py): which routes exist and how their path
parameters are filled, the rows planted in school B (and for one out-of-family student of school A), each
carrying a marker string, and a checksum of those rows to prove a refused write wrote nothing.

Filling a path parameter is generic, so new routes and plugins are covered without editing this file:

- an ``<int:…_id>`` names a row: its table is found by name (``student_id`` → ``students``, ``case_id`` →
  ``alert_cases``, ``entry_id`` under the ``points`` blueprint → ``points_entries``), and it is filled with
  the row planted in school B, or else the table's first row of school B;
- a string parameter naming a row by key (``client_id``) is filled from that row;
- anything else must be in ``VOCAB`` (library names, decisions, actions…): words, not rows.

A parameter none of these fill is reported by the probe as unfillable, which fails the test.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from tests.conftest import AuthActions, login_of

INT_MAX = 2**31 - 1
PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")  # a Flask rule's <converter:name>
NO_KEY = "probe-no-such-key"
QUERY_IDS = ("school_id", "class_id", "student_id")  # what a GET without ids is asked about

# markers of school B's rows (demo names and student numbers repeat across schools: never markers)
MARK_B = {
    "student": "乙校探针学生", "class": "乙校探针班级", "grade": "乙校探针年级", "staff": "乙校探针教师",
    "guardian": "乙校探针监护人", "form": "乙校探针表单", "submission": "乙校探针填报", "case": "乙校探针预警",
    "notice": "乙校探针通知", "reply": "乙校探针回复", "entry": "乙校探针积分", "appeal": "乙校探针申诉",
    "client": "乙校探针应用", "listing": "乙校探针上架", "delivery": "乙校探针投递", "conflict": "乙校探针冲突",
    "record": "乙校探针记录", "identity": "乙校探针联合身份", "greeting": "乙校探针问候",
}
# markers of school A's out-of-family student (another class than the parent's, student's and teacher's)
MARK_A = {"student": "甲校外家探针学生", "guardian": "甲校外家探针监护人", "case": "甲校外家探针预警",
          "entry": "甲校外家探针积分", "submission": "甲校外家探针填报"}

# int parameters whose table is not named after them
ROW_TABLES = {"class_id": "org_units", "unit_id": "org_units", "item_id": "message_inbox"}
# string parameters naming a row by a key column
KEY_COLUMNS = {"client_id": ("oidc_clients", "client_id")}
# parameters that are words, not rows (the record planted in B is of VOCAB["library"])
VOCAB: dict[str, Any] = {
    "version": 1, "decision": "accept", "action": "disable", "kind": "libraries", "item_id": "attendance",
    "key": "merit", "day": "2026-10-01", "template_id": "probe", "filename": "probe.css", "name": "points",
    "library": "attendance", "element": "status",
}
VOCAB_AT = {"api.square_step": {"action": "publish"}}


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    endpoint: str
    params: tuple[tuple[str, bool], ...]  # (name, is an int converter)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.rule)

    @property
    def blueprint(self) -> str:
        return self.endpoint.rpartition(".")[0]

    @property
    def write(self) -> bool:
        return self.method != "GET"

    def url(self, values: dict[str, Any]) -> str:
        return PARAM.sub(lambda m: str(values[m.group(1)]), self.rule)


def plugin_blueprints(app) -> dict[str, str]:
    """Blueprint name → plugin, from each plugin's ``jizuo_blueprints`` hook."""
    return {bp.name: plugin for plugin, bps in app.extensions["jizuo.plugins"].each("jizuo_blueprints")
            for bp in bps or []}


def routes(app) -> list[Route]:
    """Every method of every rule under /api/v1/ and of every plugin blueprint: reads first, then writes,
    plugin management last (a write that slipped through there would change what the rest sees)."""
    bps = plugin_blueprints(app)
    out = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/v1/") or rule.endpoint.rpartition(".")[0] in bps):
            continue
        params = tuple(sorted((n, isinstance(rule._converters[n], IntegerConverter)) for n in rule.arguments))
        out += [Route(m, rule.rule, rule.endpoint, params) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(out, key=lambda r: (r.write, r.rule.startswith("/api/v1/plugins"), r.rule, r.method))


def is_row(name: str, is_int: bool) -> bool:
    return (is_int and (name == "id" or name.endswith("_id"))) or (not is_int and name in KEY_COLUMNS)


def table_for(name: str, blueprint: str, tables: set[str]) -> str | None:
    """The table an ``<int:…_id>`` names: explicit, or by its plural (the blueprint's own tables first)."""
    if name in ROW_TABLES:
        return ROW_TABLES[name]
    if name in KEY_COLUMNS:
        return KEY_COLUMNS[name][0]
    stem = name.removesuffix("_id")
    plurals = [stem + "s", stem + "es", stem]
    if stem.endswith("y"):
        plurals.insert(0, stem[:-1] + "ies")
    own = [f"{blueprint}_{p}" for p in plurals] if blueprint not in ("", "api") else []
    for candidate in own + plurals:
        if candidate in tables:
            return candidate
    suffixed = sorted({t for t in tables for p in plurals if t.endswith("_" + p)})
    return suffixed[0] if len(suffixed) == 1 else None


# ---- the world: school A's callers, school B's marked rows ---------------------------------------------
@dataclass
class World:
    app: Any
    demo: dict
    a: int = 0
    b: int = 0
    tables: dict[str, sa.Table] = field(default_factory=dict)
    rows_b: dict[str, Any] = field(default_factory=dict)  # table → the planted row's id (or key)
    rows_a: dict[str, Any] = field(default_factory=dict)  # table → the out-of-family A student's row
    shared_a: dict[str, Any] = field(default_factory=dict)  # table → a row of A holding that student's data
    ids_b: dict[str, int] = field(default_factory=dict)  # body / query names → B's ids
    ids_a: dict[str, int] = field(default_factory=dict)  # … with the out-of-family A student's student ids
    accounts_b: set[int] = field(default_factory=set)
    guardians: set[int] = field(default_factory=set)  # B's and the A stranger's guardians
    _users: dict = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)  # blueprints of plugins installed nowhere: 404 everywhere

    @property
    def engine(self) -> sa.Engine:
        return self.app.extensions["jizuo.engine"]

    def user(self, role: str, school: int) -> AuthActions:
        if (role, school) not in self._users:
            auth = AuthActions(self.app.test_client())
            resp = auth.login(login_of(self.demo, role, school))
            assert resp.status_code == 302, (role, school, resp.status_code)
            self._users[(role, school)] = auth
        return self._users[(role, school)]

    def one(self, stmt) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def write(self, *stmts) -> list[Any]:
        with self.engine.begin() as conn:
            return [conn.execute(s) for s in stmts]

    def reflect(self) -> None:
        meta = sa.MetaData()
        meta.reflect(bind=self.engine)
        self.tables = dict(meta.tables)

    def row_of_b(self, table: str) -> Any:
        """The planted row of school B, else the table's first row of school B (None: none there)."""
        if table in self.rows_b:
            return self.rows_b[table]
        t = self.tables.get(table)
        if t is None or "school_id" not in t.c or "id" not in t.c:
            return None
        return self.one(sa.select(sa.func.min(t.c.id)).where(t.c.school_id == self.b))

    def row_of_a(self, table: str) -> Any:
        """The out-of-family A student's row of ``table`` (None: the table holds none of theirs)."""
        if table in self.rows_a:
            return self.rows_a[table]
        t = self.tables.get(table)
        if t is None or "student_id" not in t.c or "id" not in t.c:
            return None
        return self.one(sa.select(sa.func.min(t.c.id)).where(t.c.student_id == self.ids_a["student_id"]))

    def fingerprint(self) -> str:
        """A checksum of every row of school B, and of the out-of-family A student, in every table that
        carries a school (or student, account, guardian) — the audit log aside, which reads append to."""
        digest = hashlib.sha256()
        stranger = self.ids_a["student_id"]
        with self.engine.connect() as conn:
            for name, t in sorted(self.tables.items()):
                if name == "audit_log":
                    continue
                c, where = t.c, []
                if "school_id" in c:
                    where.append(c.school_id == self.b)
                if "owner_school_id" in c:
                    where.append(c.owner_school_id == self.b)
                if "student_id" in c:
                    where.append(c.student_id == stranger)
                if "account_id" in c:
                    where.append(c.account_id.in_(self.accounts_b))
                if name == "students":
                    where.append(c.id == stranger)
                if name == "guardians":
                    where.append(c.id.in_(self.guardians))
                if not where:
                    continue
                rows = sorted(repr(tuple(r)) for r in conn.execute(sa.select(t).where(sa.or_(*where))))
                digest.update(f"{name}:{len(rows)}:{''.join(rows)}".encode())
        return digest.hexdigest()


def markers_in(text: str, family_too: bool = True) -> list[str]:
    """The markers of B (and, with ``family_too``, of the out-of-family A student) that ``text`` holds,
    escaped or not."""
    marks = (*MARK_B.values(), *(MARK_A.values() if family_too else ()))
    return [m for m in marks if m in text or json.dumps(m)[1:-1] in text]


# ---- plausible bodies: deep enough that a lookup which leaked would write --------------------------------
Body = Callable[[dict[str, Any]], dict[str, Any]]
BODIES: dict[str, Body] = {
    "api.update_student": lambda i: {"name": "篡改"},
    "api.update_staff": lambda i: {"name": "篡改"},
    "api.update_guardian": lambda i: {"name": "篡改"},
    "api.update_org_unit": lambda i: {"name": "篡改"},
    "api.reveal_id_number": lambda i: {"reason": "核查身份"},
    "api.binding_code": lambda i: {"student_id": i["student_id"]},
    "api.create_student": lambda i: {"student_no": "P-0001", "name": "新同学", "sex_code": "1",
                                     "ethnicity_code": "01", "class_id": i["class_id"]},
    "api.create_staff": lambda i: {"staff_no": "P-001", "name": "新教工", "sex_code": "1", "school_id": i["school_id"]},
    "api.create_guardian": lambda i: {"name": "新家长", "links": [{"student_id": i["student_id"],
                                                                   "relation_code": "51"}]},
    "api.create_org_unit": lambda i: {"kind": "class", "name": "新班", "parent_id": i["grade_id"]},
    "api.raise_alert_case": lambda i: {"student_id": i["student_id"], "rule": "core.manual", "note": "关注"},
    "api.act_on_alert_case": lambda i: {"kind": "note", "note": "跟进"},
    "api.send_notice": lambda i: {"subject": "通知", "body": "正文",
                                  "audience": {"kind": "class", "class_id": i["class_id"], "target": "both"}},
    "api.inbox_reply": lambda i: {"body": "收到"},
    "api.create_form": lambda i: {"title": "表", "schema": {"type": "object", "properties": {}},
                                  "app": {"audience": {"classes": [i["class_id"]]}}},
    "api.update_form": lambda i: {"title": "篡改"},
    "api.submit_form": lambda i: {"data": {"note": "填报"}},
    "api.app_decide": lambda i: {"decision": "approved", "note": "同意"},
    "api.app_to_square": lambda i: {"description": "上架"},
    "api.create_client": lambda i: {"name": "应用", "grant_types": ["client_credentials"], "school_id": i["school_id"]},
    "api.decide_conflict": lambda i: {"reason": "核对"},
    "api.square_step": lambda i: {"reason": "审核"},
    "points.api_entry_create": lambda i: {"student_id": i["student_id"], "rule_code": "class_order", "reason": "扣分"},
    "points.api_entry_batch": lambda i: {"student_ids": [i["student_id"]], "rule_code": "class_order", "reason": "扣分"},
    "points.api_entry_reverse": lambda i: {"reason": "冲正"},
    "points.api_appeal_create": lambda i: {"entry_id": i["entry_id"], "reason": "申诉"},
    "points.api_appeal_decide": lambda i: {"decision": "accept", "note": "成立"},
}


def body_for(route: Route, ids: dict[str, Any]) -> dict[str, Any]:
    """The route's plausible body, or one naming the ids (``{}`` when it names nothing)."""
    make = BODIES.get(route.endpoint)
    return make(ids) if make else {k: ids[k] for k in QUERY_IDS}


class Twin(dict):
    """Every id a nonexistent one."""

    def __missing__(self, key: str) -> Any:
        return NO_KEY if key in KEY_COLUMNS else INT_MAX


# ---- planting: what school B (and the out-of-family A student) holds, each row marked -------------------
FORM_SCHEMA = {"type": "object", "required": ["student"], "properties": {
    "student": {"type": "string", "title": "学生", "x-jizuo-binding": "student"},
    "note": {"type": "string", "title": "备注"}}}
FORM_APP = {"audience": {"fill": ["parent", "homeroom_teacher"], "see": ["homeroom_teacher"]},
            "approval": {"by": "homeroom_teacher"}}
# school A's app everyone fills, each class's teachers see: it holds a submission about the out-of-family student
SHARED_APP = {"audience": {"fill": ["school_admin", "homeroom_teacher", "subject_teacher", "parent", "student"],
                           "see": ["homeroom_teacher", "subject_teacher"]}}


def _ok(resp, status: int = 201) -> dict:
    assert resp.status_code == status, (resp.request.path, resp.status_code, resp.get_data(as_text=True)[:300])
    return resp.get_json()


def install_plugins(world: World, install: bool = True) -> list[str]:
    """Every loaded plugin published in the app square by the district, installed by both schools' admins;
    with ``install`` False, the plugins as the app has them installed (those installed somewhere)."""
    loaded = sorted(world.app.extensions["jizuo.plugins"].loaded)
    if not install:
        from foundation.plugin_runtime import enabled_schools

        with world.app.app_context():
            return [name for name in loaded if enabled_schools(name)]
    district = world.user("district_admin", 0)
    listed = {i["key"]: i for i in _ok(district.get("/api/v1/square"), 200)["items"] if i["kind"] == "plugin"}
    for name in loaded:
        for action in {"submitted": ("review", "publish"), "in_review": ("publish",)}.get(listed[name]["status"], ()):
            _ok(district.post(f"/api/v1/square/{listed[name]['id']}/{action}", json={}), 200)
        for school in (0, 1):
            _ok(world.user("school_admin", school).post(f"/api/v1/plugins/{name}/install", json={"config": {}}))
    return loaded


def _seed_points(world: World) -> None:
    teacher, parent = world.user("homeroom_teacher", 1), world.user("parent", 1)
    entry = _ok(teacher.post("/points/api/entries", json={
        "student_id": world.ids_b["student_id"], "rule_code": "class_order", "reason": MARK_B["entry"]}))
    world.rows_b["points_entries"] = entry["id"]
    world.rows_b["points_appeals"] = _ok(parent.post("/points/api/appeals", json={
        "entry_id": entry["id"], "reason": MARK_B["appeal"]}))["id"]
    world.rows_a["points_entries"] = _ok(world.user("school_admin", 0).post("/points/api/entries", json={
        "student_id": world.ids_a["student_id"], "rule_code": "class_order", "reason": MARK_A["entry"]}))["id"]


def _seed_hello(world: World) -> None:
    _ok(world.user("school_admin", 1).post("/hello/api/greetings", json={"text": MARK_B["greeting"]}))


def _seed_aid(world: World) -> None:
    """The homeroom teacher of B's sample student (a review role) recommends aid for them."""
    teacher = world.user("homeroom_teacher", 1)
    world.rows_b["aid_awards"] = _ok(teacher.post(f"/aid/api/students/{world.ids_b['student_id']}/awards", json={
        "kind": "work_study", "note": MARK_B["entry"]}))["id"]


# plugin → what it plants in school B through its own API (a plugin without one: its id routes cannot be filled)
PLUGIN_SEEDS: dict[str, Callable[[World], None]] = {"points": _seed_points, "hello": _seed_hello, "aid": _seed_aid}


def _seed_wellbeing(world: World) -> None:
    """B's psychology teacher clones PHQ-9 with a question of the school's own (the marker) and screens the
    sample student's class on it; B's guardian consents (if the child is under 14) and the student answers."""
    from datetime import date, timedelta

    from foundation import db
    from foundation.lowcode.forms import seed_templates
    from foundation.tenancy import unscoped

    with world.app.app_context():
        seed_templates(unscoped("probe setup").mark(db.session()))
        db.session().commit()
    psych = world.user("psychology_teacher", 1)
    template = next(f for f in _ok(psych.get("/api/v1/forms"), 200)["items"]
                    if f["school_id"] is None and f["title"]["en"].endswith("(PHQ-9)"))
    draft = _ok(psych.post(f"/api/v1/forms/{template['id']}/clone", json={}))
    schema = draft["draft"]["schema"]
    schema["properties"]["own"] = {"type": "string", "title": MARK_B["form"]}
    _ok(psych.put(f"/api/v1/forms/{draft['id']}", json={"schema": schema, "ui_schema": draft["draft"]["ui_schema"],
                                                        "app": draft["draft"]["app"]}), 200)
    _ok(psych.post(f"/api/v1/forms/{draft['id']}/publish"))
    scr = _ok(psych.post("/wellbeing/api/screenings", json={
        "form_id": draft["id"], "class_ids": [world.ids_b["class_id"]], "title": MARK_B["submission"],
        "opens_on": (date.today() - timedelta(days=1)).isoformat(),
        "closes_on": (date.today() + timedelta(days=2)).isoformat()}))
    world.rows_b["wellbeing_screenings"] = scr["id"]
    world.user("parent", 1).post(f"/wellbeing/api/consents/{world.ids_b['student_id']}", json={"granted": True})
    _ok(world.user("student", 1).post(f"/wellbeing/api/screenings/{scr['id']}/responses", json={
        "answers": [1, 1, 0, 0, 1, 0, 0, 0, 1], "extra": {"own": MARK_B["submission"]}}))


PLUGIN_SEEDS["wellbeing"] = _seed_wellbeing


def _seed_learning(world: World) -> None:
    """B's school admin sends five wrong answers of B's sample student through the ingest API (a weak point: a
    resource is pushed to the student); B's homeroom teacher writes a plan holding the marker."""
    from datetime import UTC, datetime, timedelta

    from foundation.models import DataSource, Student

    if world.one(sa.select(DataSource.id).where(DataSource.code == "homework_app")) is None:
        world.write(sa.insert(DataSource).values(code="homework_app", name="作业平台"))
    kid = world.ids_b["student_id"]
    number = world.one(sa.select(Student.student_no).where(Student.id == kid))
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    _ok(world.user("school_admin", 1).post("/api/v1/ingest/item_response?source=homework_app", json=[
        {"source_id": f"probe-b-{i}", "student": number, "occurred_at": at, "item_id": f"P-{i}", "subject": "math",
         "knowledge_points": ["MA7.NA.03"], "correct": False} for i in range(5)]), 200)
    world.rows_b["learning_plans"] = _ok(world.user("homeroom_teacher", 1).post(
        f"/learning/api/students/{kid}/plans", json={"text": MARK_B["entry"]}))["id"]


PLUGIN_SEEDS["learning"] = _seed_learning


def _seed_afterschool(world: World) -> None:
    """B's admin adds a venue and a course holding the marker and opens a lottery window; B's parent chooses the
    course for the sample student; the admin ends selection and draws."""
    from datetime import UTC, datetime, timedelta

    admin, parent, kid = world.user("school_admin", 1), world.user("parent", 1), world.ids_b["student_id"]
    venue = _ok(admin.post("/afterschool/api/venues", json={"name": MARK_B["listing"], "capacity": 30}))["id"]
    course = _ok(admin.post("/afterschool/api/courses", json={
        "title": MARK_B["entry"], "category": "arts", "venue_id": venue, "capacity": 20, "slots": [[3, 1]],
        "grades": [world.ids_b["grade_id"]], "teacher_name": MARK_B["staff"], "provider": MARK_B["listing"]}))["id"]
    now = datetime.now(UTC)
    window = _ok(admin.post("/afterschool/api/windows", json={
        "title": MARK_B["notice"], "mode": "lottery", "grades": [world.ids_b["grade_id"]], "course_ids": [course],
        "opens_at": (now - timedelta(minutes=5)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat()}))["id"]
    _ok(parent.post(f"/afterschool/api/windows/{window}/choices", json={"student_id": kid, "courses": [course]}), 200)
    lottery = _ok(admin.post(f"/afterschool/api/windows/{window}/lottery", json={"close_now": True}))["id"]
    mine = _ok(parent.get("/afterschool/api/me"), 200)["items"][0]["windows"]
    world.rows_b |= {"afterschool_courses": course, "afterschool_windows": window, "afterschool_lotteries": lottery,
                     "afterschool_venues": venue,
                     "afterschool_choices": next(c["id"] for w in mine if w["id"] == window for c in w["choices"])}


PLUGIN_SEEDS["afterschool"] = _seed_afterschool


def _person(world: World, role: str, school: int) -> tuple[int, int]:
    from foundation.models import Account

    acc = Account.__table__.c
    with world.engine.connect() as conn:
        row = conn.execute(sa.select(acc.id, acc.person_id).where(
            acc.username == login_of(world.demo, role, school))).one()
    return row.id, row.person_id


def _people(world: World) -> dict[str, int]:
    """Schools, B's sample student, class, grade, homeroom teacher and parent; A's out-of-family student."""
    from foundation.models import GuardianLink, OrgUnit, Student

    ou, st, gl = OrgUnit.__table__.c, Student.__table__.c, GuardianLink.__table__.c
    with world.engine.connect() as conn:
        world.a, world.b = sorted(conn.scalars(sa.select(ou.id).where(ou.kind == "school")))
        _, kid_b = _person(world, "student", 1)
        class_b = conn.scalar(sa.select(st.class_id).where(st.id == kid_b))
        _, kid_a = _person(world, "student", 0)
        class_a = conn.scalar(sa.select(st.class_id).where(st.id == kid_a))
        stranger = conn.execute(sa.select(st.id, st.class_id).where(
            st.school_id == world.a, st.class_id != class_a).order_by(st.id).limit(1)).one()
        out = {"kid_b": kid_b, "class_b": class_b, "grade_b": conn.scalar(sa.select(ou.parent_id).where(ou.id == class_b)),
               "staff_b": _person(world, "homeroom_teacher", 1)[1], "guardian_b": _person(world, "parent", 1)[1],
               "stranger": stranger.id, "stranger_class": stranger.class_id,
               "stranger_guardian": conn.scalar(sa.select(sa.func.min(gl.guardian_id)).where(gl.student_id == stranger.id))}
    world.accounts_b = {_person(world, e["role"], 1)[0] for e in world.demo["logins"] if e["school_id"] == world.b}
    world.guardians = {out["guardian_b"], out["stranger_guardian"]}
    return out


def _rename(world: World, p: dict[str, int]) -> None:
    from foundation.models import Guardian, OrgUnit, Staff, Student

    st, ou, sf, gd = Student.__table__, OrgUnit.__table__, Staff.__table__, Guardian.__table__
    world.write(
        sa.update(st).where(st.c.id == p["kid_b"]).values(name=MARK_B["student"]),
        sa.update(ou).where(ou.c.id == p["class_b"]).values(name=MARK_B["class"]),
        sa.update(ou).where(ou.c.id == p["grade_b"]).values(name=MARK_B["grade"]),
        sa.update(sf).where(sf.c.id == p["staff_b"]).values(name=MARK_B["staff"]),
        sa.update(gd).where(gd.c.id == p["guardian_b"]).values(name=MARK_B["guardian"]),
        sa.update(st).where(st.c.id == p["stranger"]).values(name=MARK_A["student"]),
        sa.update(gd).where(gd.c.id == p["stranger_guardian"]).values(name=MARK_A["guardian"]))


def _through_the_api(world: World, p: dict[str, int]) -> None:
    """What B's own people create: a form and a submission, an app-square listing, an alert case, a notice
    with a reply, an app (OIDC client); and an alert case about A's out-of-family student."""
    from foundation.models import Student

    teacher, parent, admin = (world.user(r, 1) for r in ("homeroom_teacher", "parent", "school_admin"))
    form = _ok(teacher.post("/api/v1/forms", json={"title": MARK_B["form"], "schema": FORM_SCHEMA, "app": FORM_APP}))
    _ok(teacher.post(f"/api/v1/forms/{form['id']}/publish", json={}))
    number = world.one(sa.select(Student.__table__.c.student_no).where(Student.__table__.c.id == p["kid_b"]))
    sub = _ok(parent.post(f"/api/v1/forms/{form['id']}/submissions",
                          json={"data": {"student": number, "note": MARK_B["submission"]}}))
    listing = _ok(admin.post(f"/api/v1/forms/{form['id']}/square", json={"description": MARK_B["listing"]}))
    case = _ok(teacher.post("/api/v1/alerts/cases", json={"student_id": p["kid_b"], "note": MARK_B["case"]}))
    notice = _ok(admin.post("/api/v1/messages", json={"subject": MARK_B["notice"], "body": MARK_B["notice"],
                                                      "audience": {"kind": "class", "class_id": p["class_b"],
                                                                   "target": "both"}}))
    item = next(i["id"] for i in _ok(parent.get("/api/v1/messages/inbox"), 200)["items"]
                if MARK_B["notice"] in str(i))
    _ok(parent.post(f"/api/v1/messages/inbox/{item}/reply", json={"body": MARK_B["reply"]}))
    client = _ok(admin.post("/api/v1/clients", json={"name": MARK_B["client"], "grant_types": ["authorization_code"],
                                                     "redirect_uris": ["https://probe.example/cb"]}))
    from datetime import date, timedelta

    soon = [(date.today() + timedelta(days=n)).isoformat() for n in (1, 2)]  # future in UTC and in Shanghai
    deputy = _ok(teacher.post("/api/v1/flow/delegations", json={  # B's teacher names B's admin as deputy
        "deputy": _person(world, "school_admin", 1)[0], "starts": soon[0], "ends": soon[1]}))
    world.rows_b |= {"lowcode_forms": form["id"], "lowcode_submissions": sub["id"], "square_listings": listing["id"],
                     "alert_cases": case["id"], "messages": notice["message_id"], "message_inbox": item,
                     "oidc_clients": client["client_id"], "lowcode_delegations": deputy["id"]}
    admin_a = world.user("school_admin", 0)
    world.rows_a["alert_cases"] = _ok(admin_a.post("/api/v1/alerts/cases", json={
        "student_id": p["stranger"], "note": MARK_A["case"]}))["id"]
    shared = _ok(admin_a.post("/api/v1/forms", json={"title": "晨检", "schema": FORM_SCHEMA, "app": SHARED_APP}))
    _ok(admin_a.post(f"/api/v1/forms/{shared['id']}/publish", json={}))
    number = world.one(sa.select(Student.__table__.c.student_no).where(Student.__table__.c.id == p["stranger"]))
    world.rows_a["lowcode_submissions"] = _ok(admin_a.post(f"/api/v1/forms/{shared['id']}/submissions", json={
        "data": {"student": number, "note": MARK_A["submission"]}}))["id"]
    world.shared_a["lowcode_forms"] = shared["id"]


def _directly(world: World, p: dict[str, int]) -> None:
    """What no API of a school creates: a dead delivery, a data conflict, a business record and a federated
    sign-in of school B (written on the database, as the worker, an ingest and a portal would)."""
    from foundation.db import utcnow
    from foundation.models import Conflict, FederatedIdentity, Record, UpstreamProvider
    from foundation.models.messages import Delivery

    now, parent_account = utcnow(), _person(world, "parent", 1)[0]
    d, c, r, up, fi = (m.__table__ for m in (Delivery, Conflict, Record, UpstreamProvider, FederatedIdentity))
    with world.engine.begin() as conn:
        ins = lambda t, **v: conn.execute(sa.insert(t).values(**v).returning(t.c.id)).scalar_one()  # noqa: E731
        world.rows_b["message_deliveries"] = ins(
            d, message_id=world.rows_b["messages"], account_id=parent_account, channel="webhook", school_id=world.b,
            status="dead", attempts=5, next_attempt_at=now, last_error=MARK_B["delivery"], created_at=now)
        world.rows_b["conflicts"] = ins(
            c, school_id=world.b, library="student", entity="student", entity_id=p["kid_b"], element="name",
            current_value=MARK_B["student"], proposed_value=MARK_B["conflict"], source="probe", status="pending",
            created_at=now)
        world.rows_b["records"] = ins(
            r, school_id=world.b, library=VOCAB["library"], library_version="1.0.0", source="probe",
            source_id="probe-b-1", subject_kind="student", subject_id=p["kid_b"], occurred_at=now,
            data={"status": "late", "note": MARK_B["record"]}, created_at=now)
        provider = ins(up, slug="probe", name="探针门户", issuer="https://probe.example", client_id="probe",
                       client_secret_enc="-", scopes="openid", enabled=True, created_at=now)
        world.rows_b["fed_identities"] = ins(
            fi, provider_id=provider, issuer="https://probe.example", subject=MARK_B["identity"],
            account_id=parent_account, linked_by="admin", created_at=now)


def plant(world: World, install: bool = True) -> list[str]:
    """Install every plugin (unless ``install`` is False: as they are), then plant and mark school B's rows;
    returns the plugins. Checks that B's own people see their markers (and A's admin the out-of-family
    student's), or the probe would prove nothing."""
    plugins = install_plugins(world, install)
    world.absent = {bp for bp, plugin in plugin_blueprints(world.app).items() if plugin not in plugins}
    p = _people(world)
    _rename(world, p)
    world.rows_b |= {"students": p["kid_b"], "org_units": p["class_b"], "staff": p["staff_b"],
                     "guardians": p["guardian_b"]}
    world.rows_a |= {"students": p["stranger"], "guardians": p["stranger_guardian"]}
    world.ids_b = {"school_id": world.b, "class_id": p["class_b"], "student_id": p["kid_b"], "grade_id": p["grade_b"]}
    world.ids_a = world.ids_b | {"student_id": p["stranger"]}  # the one id swapped: a student of A, not B
    _through_the_api(world, p)
    for name in plugins:
        if name in PLUGIN_SEEDS:
            PLUGIN_SEEDS[name](world)
    _directly(world, p)
    world.ids_b["entry_id"] = world.rows_b.get("points_entries", INT_MAX)
    world.ids_a["entry_id"] = world.rows_a.get("points_entries", INT_MAX)
    world.reflect()
    own = world.user("school_admin", 1).get(f"/api/v1/students/{p['kid_b']}").get_data(as_text=True)
    assert MARK_B["student"] in own and MARK_B["class"] in own, own[:300]
    assert MARK_B["case"] in world.user("homeroom_teacher", 1).get(
        f"/api/v1/alerts/cases/{world.rows_b['alert_cases']}").get_data(as_text=True)
    assert MARK_A["student"] in world.user("school_admin", 0).get(
        f"/api/v1/students/{p['stranger']}").get_data(as_text=True)
    return plugins
