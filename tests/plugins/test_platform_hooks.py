"""The hooks a capability stands on, through a small plugin of the test's own (``care``): roles it declares,
sections of the student profile, periodic jobs, figures for the district (desensitised), the event bus's
savepoints, configuration defaults, standard records read through the platform."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from foundation.hookspecs import hookimpl
from tests.conftest import SECRET, AuthActions, login_of

SEEN: dict[str, list] = {"job": [], "events": []}


def _profile(sess, student, principal):
    from foundation.plugin_api import records

    rows = records("care").aggregate(sess, "card_transaction", students=[student.id],
                                     measures={"n": "count", "spend": ("sum", "amount")})
    return {"transactions": rows[0]["n"] if rows else 0, "spend": rows[0]["spend"] if rows else 0}


def _job(sess, school_id):
    from foundation.plugin_api import Student

    seen = sorted(set(sess.scalars(sa.select(Student.school_id))))
    SEEN["job"].append((school_id, seen))
    if school_id == max(s for s, _ in SEEN["job"]) and len(SEEN["job"]) > 1:
        raise RuntimeError("this school's run fails")
    return {"students": sess.scalar(sa.select(sa.func.count()).select_from(Student))}


def _bands(sess, school_id):
    return [{"group": {"band": "a"}, "count": 40}, {"group": {"band": "b"}, "count": 3},
            {"group": {"band": "c"}, "count": 12}, {"group": {"band": "d"}, "count": 0}]


def _leaky(sess, school_id):
    return [{"group": {"student_id": 1}, "count": 9}]


def _failing(event, payloads):
    from foundation.plugin_api import Student, session

    session().execute(sa.update(Student).values(name="改坏了"))  # rolled back with the savepoint
    raise RuntimeError("a subscriber's bug")


def _noting(event, payloads):
    SEEN["events"].append((event, [p["school_id"] for p in payloads]))


class Care:
    @hookimpl
    def jizuo_manifest(self):
        return {"name": "care", "version": "1.0.0", "title": {"zh": "关爱", "en": "Care"},
                "description": {"zh": "测试用插件", "en": "A test plugin"}, "foundation": ">=0.1,<1.0",
                "capabilities": ["care.read"], "reads": ["card_transaction"],
                "default_config": {"threshold": 3, "label": "默认"},
                "config_schema": {"type": "object", "properties": {"threshold": {"type": "integer"},
                                                                   "label": {"type": "string"}}}}

    @hookimpl
    def jizuo_capabilities(self):
        return {"care.read": {"zh": "查看关爱情况", "en": "See care"}}

    @hookimpl
    def jizuo_roles(self):
        return [{"name": "care_officer", "zh": "关爱专员", "en": "Care officer", "reach": "school",
                 "capabilities": ["people.student.read"]}]

    @hookimpl
    def jizuo_role_grants(self):
        return {"care_officer": ["care.read"], "homeroom_teacher": ["care.read"]}

    @hookimpl
    def jizuo_student_profile(self):
        return [{"key": "care.summary", "title": {"zh": "消费概况", "en": "Spending"}, "capability": "care.read",
                 "order": 10, "sensitive": True, "data": _profile}]

    @hookimpl
    def jizuo_jobs(self):
        return [{"key": "care.tally", "title": {"zh": "统计", "en": "Tally"}, "every": 3600, "run": _job}]

    @hookimpl
    def jizuo_district_figures(self):
        return [{"key": "care.bands", "title": {"zh": "分档", "en": "Bands"}, "sensitive": True, "compute": _bands},
                {"key": "care.leaky", "title": {"zh": "泄露", "en": "Leaky"}, "compute": _leaky}]

    @hookimpl
    def jizuo_event_subscriptions(self):
        return {"care.ping": _failing}


class Nosy:
    """A plugin whose role claims what a plugin's role may not hold: left out."""

    @hookimpl
    def jizuo_manifest(self):
        return {"name": "nosy", "version": "1.0.0", "title": {"zh": "越权", "en": "Nosy"},
                "description": {"zh": "测试", "en": "Test"}, "foundation": ">=0.1,<1.0"}

    @hookimpl
    def jizuo_roles(self):
        return [{"name": "nosy_admin", "zh": "越权", "en": "Nosy", "reach": "school",
                 "capabilities": ["accounts.manage"]}]


@pytest.fixture
def care(template, tmp_path):
    from foundation import create_app, db
    from foundation.models import OrgUnit, PluginInstall
    from foundation.permissions import ROLES
    from foundation.pluginhost import discover
    from foundation.tenancy import unscoped

    host = discover()
    host.register(Care(), "care")
    host.register(Nosy(), "nosy")
    url = template.copy()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True,
                      "INSTANCE_PATH": str(tmp_path / "instance"), "REDIS_URL": None, "PLUGIN_HOST": host})
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        schools = sorted(sess.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))
        for school in schools:
            sess.add(PluginInstall(plugin="care", school_id=school, version="1.0.0", enabled=True,
                                   config={"threshold": 7}, installed_by=None))
        sess.commit()
    SEEN["job"].clear()
    SEEN["events"].clear()
    yield app, schools
    for stop in app.extensions.get("jizuo.plugin_unsubscribe", []):
        stop()
    ROLES.pop("care_officer", None)
    app.extensions["jizuo.engine"].dispose()
    template.drop_copy(url)


def _login(app, demo, role, school=0) -> AuthActions:
    user = AuthActions(app.test_client())
    assert user.login(login_of(demo, role, school)).status_code == 302
    return user


def _student(app, demo, role="student", school=0):
    from foundation import db
    from foundation.models import Account, Student
    from foundation.tenancy import unscoped

    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        acct = sess.scalar(sa.select(Account).where(Account.username == login_of(demo, role, school)))
        return sess.scalar(sa.select(Student).where(Student.id == acct.person_id))


def test_a_plugin_declares_roles_and_an_overreaching_one_is_left_out(care):
    from foundation.permissions import ROLES

    app, _ = care
    host = app.extensions["jizuo.plugins"]
    assert ROLES["care_officer"].plugin == "care" and ROLES["care_officer"].reach == "school"
    assert "nosy" not in host.loaded and "nosy_admin" not in ROLES
    assert any(f.name == "nosy" and "accounts.manage" in f.reason for f in host.failures)


def test_profile_sections_follow_capability_and_reach_and_sensitive_reads_are_audited(care, demo):
    from foundation import db
    from foundation.models import AuditEntry, Record
    from foundation.tenancy import unscoped

    app, schools = care
    kid = _student(app, demo)
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        for n, amount in enumerate(("12.50", "7.00")):
            sess.add(Record(library="card_transaction", library_version="1.0.0", source="card", source_id=f"c{n}",
                            school_id=kid.school_id, subject_kind="student", subject_id=kid.id,
                            occurred_at=datetime(2026, 11, 2, 12, n), data={"amount": amount, "card_no": "1"}))
        sess.commit()
    teacher = _login(app, demo, "homeroom_teacher")
    body = teacher.get(f"/api/v1/students/{kid.id}/profile").get_json()
    plugin_sections = [(s["key"], s["data"]) for s in body["sections"] if s["plugin"] is not None]  # after the core's
    assert plugin_sections == [("care.summary", {"transactions": 2, "spend": 19.5})]
    page = teacher.get(f"/students/{kid.id}").get_data(as_text=True)
    assert "消费概况" in page
    # a parent holds no care.read: the section is not there; another school's teacher does not reach the student
    family = _login(app, demo, "parent").get(f"/api/v1/students/{kid.id}/profile").get_json()["sections"]
    assert [s["key"] for s in family] == ["core.identity"]
    assert _login(app, demo, "homeroom_teacher", 1).get(f"/api/v1/students/{kid.id}/profile").status_code == 404
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        actions = set(sess.scalars(sa.select(AuditEntry.action).where(AuditEntry.resource_id == str(kid.id))))
        reads = sess.scalars(sa.select(AuditEntry.detail).where(AuditEntry.action == "records.read")).all()
    assert "profile.section.read" in actions
    assert reads and reads[0]["plugin"] == "care"


def test_a_plugin_reads_only_the_libraries_it_declares(care):
    from foundation import db
    from foundation.plugin_api import RecordAccessError, records
    from foundation.tenancy import unscoped

    app, schools = care
    with app.app_context(), unscoped("test").for_school(db.session(), schools[0]) as sess:
        assert records("care").aggregate(sess, "card_transaction") == []
        with pytest.raises(RecordAccessError):
            records("care").aggregate(sess, "canteen_meal")
        with pytest.raises(RecordAccessError):
            list(records("care").stream(sess, "psych_screening"))


def test_jobs_run_once_per_period_per_school_acting_for_that_school(care):
    from foundation import db
    from foundation.jobs import run_due
    from foundation.models import JobRun
    from foundation.tenancy import unscoped

    app, schools = care
    now = datetime(2026, 12, 7, 3, 15)
    with app.app_context():
        made = run_due(now=now)
    assert sorted((r.school_id, r.ok) for r in made) == [(schools[0], True), (schools[1], False)]
    # each run saw its own school and nothing else
    assert SEEN["job"] == [(schools[0], [schools[0]]), (schools[1], [schools[1]])]
    with app.app_context():
        assert run_due(now=now + timedelta(minutes=20)) == []  # the same hour: already run
        assert len(run_due(now=now + timedelta(hours=1))) == 2  # the next period
        sess = unscoped("test").mark(db.session())
        failed = sess.scalar(sa.select(JobRun).where(JobRun.ok.is_(False)))
        assert "this school's run fails" in failed.error and failed.finished_at is not None


def test_district_figures_are_desensitised(care, demo):
    app, schools = care
    district = _login(app, demo, "district_admin")
    body = district.get("/api/v1/district/figures").get_json()
    figures = {f["key"]: f for f in body["items"]}
    cells = {c["group"]["band"]: c for c in figures["care.bands"]["schools"][0]["cells"]}
    # 3 is under 5: suppressed; alone it could be recovered from the total, so the next smallest (12) goes too
    assert cells["b"]["count"] is None and cells["b"]["suppressed"]
    assert cells["c"]["count"] is None and cells["a"]["count"] == 40 and cells["d"]["count"] == 0
    assert figures["care.bands"]["schools"][0]["total"] == 55
    assert {c["group"]["band"]: c["count"] for c in figures["care.bands"]["district"]} == {"a": 80, "b": 0, "c": 0, "d": 0}
    assert figures["care.leaky"]["schools"] == [] and "student_id" in figures["care.leaky"]["refused"]
    assert _login(app, demo, "school_admin").get("/api/v1/district/figures").status_code == 403


def test_a_failing_subscriber_is_rolled_back_and_counted_the_others_kept(care, demo):
    from foundation import db, events
    from foundation.models import Student
    from foundation.tenancy import unscoped

    app, schools = care
    before = events.failures().get("care: care.ping", 0)  # counted per process, over the test session
    stop = events.subscribe("care.*", _noting)
    try:
        with app.app_context():
            sess = unscoped("test").mark(db.session())
            delivered = events.publish("care.ping", [{"school_id": schools[0]}, {"school_id": schools[1]}])
            sess.commit()
            names = set(sess.scalars(sa.select(Student.name)))
    finally:
        stop()
    assert delivered == 2 and SEEN["events"] == [("care.ping", schools)]
    assert "改坏了" not in names
    health = app.test_client().get("/healthz").get_json()
    assert health["event_failures"]["by_subscriber"]["care: care.ping"] == before + 2


def test_plugin_config_has_the_manifests_defaults_under_the_schools_own(care):
    from foundation.plugin_api import plugin_config

    app, schools = care
    with app.app_context():
        assert plugin_config("care", schools[0]) == {"threshold": 7, "label": "默认"}


def test_plugin_api_routes_are_in_the_openapi_document(care, demo):
    spec = _login(app=care[0], demo=demo, role="school_admin").get("/api/v1/openapi.json").get_json()
    points = [p for p in spec["paths"] if p.startswith("/points/api/")]
    assert points and all(spec["paths"][p].get("servers") == [{"url": "/"}] for p in points)


def test_records_people_calendar_and_crypto_for_a_capability(care, demo):
    """What plugin_api gives a capability to read: standard records as aggregates (by student and month) and
    streamed in batches, within the session's reach; a student's guardians (phones masked, the read
    audited); the school's staff and what they hold; school days; its own columns' encryption."""
    from datetime import date

    from foundation import db
    from foundation.models import AuditEntry, Record, Student
    from foundation.plugin_api import (
        blind_index,
        decrypt,
        encrypt,
        guardians_of,
        records,
        school_calendar,
        school_days,
        staff_of,
    )
    from foundation.tenancy import Scope, unscoped

    app, schools = care
    kid = _student(app, demo)
    with app.app_context():
        sess = unscoped("test setup").mark(db.session())
        other = sess.scalar(sa.select(Student).where(Student.school_id == kid.school_id,
                                                     Student.class_id != kid.class_id).limit(1))
        far = sess.scalar(sa.select(Student).where(Student.school_id != kid.school_id).limit(1))
        rows = [(kid, "2026-10-03 12:00", "10.00"), (kid, "2026-10-03 18:00", "6.50"), (kid, "2026-11-02 12:00", "8.00"),
                (other, "2026-10-05 12:00", "3.00"), (far, "2026-10-05 12:00", "99.00")]
        for n, (who, at, amount) in enumerate(rows):
            sess.add(Record(library="card_transaction", library_version="1.0.0", source="card", source_id=f"r{n}",
                            school_id=who.school_id, subject_kind="student", subject_id=who.id,
                            occurred_at=datetime.fromisoformat(at), data={"amount": amount, "card_no": "1"}))
        sess.commit()
        reader = records("care")
        with unscoped("test: the platform acting for the school").for_school(sess, kid.school_id):
            got = reader.aggregate(sess, "card_transaction", by=("student", "month"),
                                   measures={"n": "count", "spend": ("sum", "amount"), "days": ("days",)})
            assert sorted((r["student"], r["month"], r["n"], r["spend"], r["days"]) for r in got) == sorted([
                (kid.id, "2026-10", 2, 16.5, 1), (kid.id, "2026-11", 1, 8.0, 1), (other.id, "2026-10", 1, 3.0, 1)])
            streamed = list(reader.stream(sess, "card_transaction", elements=["amount"], batch=2))
            assert [r["amount"] for r in streamed] == ["10.00", "6.50", "8.00", "3.00"]  # in id order, 2 a query
            assert reader.aggregate(sess, "card_transaction", students=[kid.id])[0]["n"] == 3
        # a homeroom teacher's session (their class only) reads their class's records only
        teacher_view = so_session(app, Scope(school_ids=frozenset({kid.school_id}), class_ids=frozenset({kid.class_id})))
        assert {r["student"] for r in reader.aggregate(teacher_view, "card_transaction")} == {kid.id}
        teacher_view.close()
        # guardians: masked phones, audited; nothing for a student out of reach
        with unscoped("test").for_school(sess, kid.school_id):
            family = guardians_of(sess, kid.id)
            assert family and all(g["phone"] is None or "****" in g["phone"] for g in family)
            assert family[0]["relation_label"]
        with unscoped("test").for_school(sess, far.school_id):
            assert guardians_of(sess, kid.id) == []
        assert sess.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "people.guardian.read", AuditEntry.resource_id == str(kid.id))) == 1
        with unscoped("test").for_school(sess, kid.school_id):
            staff = staff_of(sess, kid.school_id)
            homeroom = [s for s in staff for r in s["roles"] if r["role"] == "homeroom_teacher"
                        and kid.class_id in r["class_ids"]]
            assert homeroom and homeroom[0]["name"]
            clock = school_calendar(sess, kid.school_id)
        assert len(school_days(clock, date(2026, 12, 7), date(2026, 12, 13))) == 5  # Monday to Friday
        token = encrypt("13800138000")
        assert token != "13800138000" and decrypt(token) == "13800138000"
        assert blind_index("13800138000") == blind_index(" 13800138000 ") and len(blind_index("x")) == 64


def so_session(app, scope):
    import sqlalchemy.orm as so

    from foundation.tenancy import set_scope

    sess = so.Session(app.extensions["jizuo.engine"])
    set_scope(sess, scope)
    return sess


def test_a_run_whose_worker_died_is_taken_over_once_after_the_lease(care):
    """A worker killed mid-run leaves its claim without an outcome: within the lease nobody touches it (it may
    still be running), after it the next worker runs the period, and only one does."""
    from foundation import db
    from foundation.jobs import lease, run_due
    from foundation.models import JobRun
    from foundation.tenancy import unscoped

    app, schools = care
    now = datetime(2026, 12, 7, 9, 5)  # an hour no other test runs
    with app.app_context():
        sess = unscoped("test").mark(db.session())
        for school in schools:
            sess.add(JobRun(job="care.tally", school_id=school, period_start=datetime(2026, 12, 7, 9, 0),
                            started_at=db.utcnow() - (lease() + timedelta(minutes=1) if school == schools[0]
                                                      else timedelta(minutes=5)), worker="dead:1"))
        sess.commit()
        made = run_due(now=now, only={"care.tally"})
        assert [(r.school_id, r.worker != "dead:1", r.finished_at is not None) for r in made] == \
            [(schools[0], True, True)]  # the stale claim is run again; the fresh one may still be running
        assert run_due(now=now, only={"care.tally"}) == []
        rows = sess.execute(sa.select(JobRun.school_id, JobRun.worker).where(
            JobRun.job == "care.tally", JobRun.period_start == datetime(2026, 12, 7, 9, 0))).all()
        assert sorted(rows)[1][1] == "dead:1" and sorted(rows)[0][1] != "dead:1" and len(rows) == 2
