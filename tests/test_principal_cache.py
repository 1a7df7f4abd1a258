"""The principal cache (foundation/auth.py): a principal is reused per (account, version), and every change
of what an account may do bumps the version (triggers of migration 0023), so it is in force on the very next
request — through the CLI, a route or raw SQL, in this process or another one sharing the database."""
from __future__ import annotations

import sqlalchemy as sa

from foundation import create_app
from foundation.models import Account, GuardianLink, Membership, OrgUnit, PluginInstall, PrincipalVersion
from foundation.models.principal_versions import EVERYONE
from tests.conftest import PASSWORD, SECRET, AuthActions, login_of

STUDENTS = "/api/v1/students?per_page=5"


def _versions(db_session, *account_ids: int) -> dict[int, int]:
    db_session.rollback()  # a fresh snapshot: the app committed in its own sessions
    rows = db_session.execute(sa.select(PrincipalVersion.account_id, PrincipalVersion.version)
                              .where(PrincipalVersion.account_id.in_(account_ids))).all()
    return {a: v for a, v in rows}


def _statements(app, call) -> list[str]:
    seen: list[str] = []

    def note(_conn, _cur, sql, *_rest) -> None:
        seen.append(sql)

    sa.event.listen(app.extensions["jizuo.engine"], "before_cursor_execute", note)
    try:
        call()
    finally:
        sa.event.remove(app.extensions["jizuo.engine"], "before_cursor_execute", note)
    return seen


def test_a_removed_role_is_refused_on_the_next_request_in_this_process_and_another(app, demo, runner, db_session,
                                                                                     tmp_path):
    admin = login_of(demo, "school_admin")
    acct = db_session.scalar(sa.select(Account).where(Account.username == admin))
    school = db_session.scalar(sa.select(Membership.school_id).where(Membership.account_id == acct.id))
    code = db_session.get(OrgUnit, school).code
    here = AuthActions(app.test_client())
    assert here.login(admin).status_code == 302
    other_app = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": SECRET,
                            "PASSWORD_HASH_FAST": True, "INSTANCE_PATH": str(tmp_path / "other"), "REDIS_URL": None})
    try:
        there = AuthActions(other_app.test_client())
        assert there.login(admin, PASSWORD).status_code == 302
        for a in (here, there):  # both processes hold the principal now; the second call is served from the cache
            assert a.get(STUDENTS).status_code == 200
        cached = _statements(app, lambda: here.get(STUDENTS))
        assert not any("FROM memberships" in sql for sql in cached), "the principal was reloaded, not reused"
        before = _versions(db_session, acct.id)[acct.id]

        result = runner.invoke(["accounts", "revoke", admin, "--role", "school_admin", "--org-unit", code])
        assert result.exit_code == 0, result.output
        assert _versions(db_session, acct.id)[acct.id] > before
        for a in (here, there):
            assert a.get(STUDENTS).status_code == 403
            assert a.get("/api/v1/me").get_json()["roles"] == []

        runner.invoke(["accounts", "grant", admin, "--role", "school_admin", "--org-unit", code])
        assert here.get(STUDENTS).status_code == 200 and there.get(STUDENTS).status_code == 200
        # written behind the platform's back, with raw SQL: the trigger still bumps
        with app.extensions["jizuo.engine"].begin() as conn:
            conn.execute(sa.text("DELETE FROM memberships WHERE account_id = :a"), {"a": acct.id})
        assert here.get(STUDENTS).status_code == 403 and there.get(STUDENTS).status_code == 403
    finally:
        other_app.extensions["jizuo.engine"].dispose()


def test_a_disabled_account_is_signed_out_on_the_next_request(app, demo, db_session):
    teacher = login_of(demo, "homeroom_teacher")
    auth = AuthActions(app.test_client())
    auth.login(teacher)
    assert auth.get(STUDENTS).status_code == 200
    acct = db_session.scalar(sa.select(Account).where(Account.username == teacher))
    acct.active = False
    db_session.commit()
    assert auth.get(STUDENTS).status_code == 401


def test_a_new_guardian_link_shows_the_child_on_the_next_request(app, demo, db_session):
    parent = login_of(demo, "parent")
    acct = db_session.scalar(sa.select(Account).where(Account.username == parent))
    auth = AuthActions(app.test_client())
    auth.login(parent)
    mine = {s["id"] for s in auth.get("/api/v1/students").get_json()["items"]}
    linked = set(db_session.scalars(sa.select(GuardianLink.student_id).where(GuardianLink.guardian_id == acct.person_id)))
    assert mine == linked
    school = db_session.scalar(sa.select(Membership.school_id).where(Membership.account_id == acct.id))
    from foundation.models import Student

    other = db_session.scalar(sa.select(Student.id).where(Student.school_id == school, Student.id.not_in(linked))
                              .order_by(Student.id).limit(1))
    db_session.add(GuardianLink(guardian_id=acct.person_id, student_id=other, relation_code="10"))
    db_session.commit()
    assert {s["id"] for s in auth.get("/api/v1/students").get_json()["items"]} == linked | {other}


def test_what_bumps_a_version_and_what_does_not(app, demo, db_session):
    """Classes added under a grade reach its grade head; plugins enabled or disabled change everyone's
    capabilities; a login (last_login_at, failed_logins) changes nothing a principal holds."""
    head = db_session.scalar(sa.select(Membership).where(Membership.role == "grade_head"))
    if head is None:
        head = db_session.scalar(sa.select(Membership).where(Membership.role == "homeroom_teacher"))
    unit = db_session.get(OrgUnit, head.org_unit_id)
    grade_id = unit.id if unit.kind == "grade" else unit.parent_id
    before = _versions(db_session, head.account_id, EVERYONE)

    acct = db_session.get(Account, head.account_id)
    from foundation.db import utcnow

    acct.last_login_at, acct.failed_logins = utcnow(), acct.failed_logins + 1
    db_session.commit()
    assert _versions(db_session, head.account_id).get(head.account_id) == before.get(head.account_id)

    grade = db_session.get(OrgUnit, grade_id)
    db_session.add(OrgUnit(kind="class", name="新班", parent_id=grade.id, school_id=grade.school_id,
                           code=f"T-NEW-{grade.id}"))
    db_session.commit()
    holders = set(db_session.scalars(sa.select(Membership.account_id).where(Membership.org_unit_id == grade.id)))
    if head.org_unit_id == grade.id:
        assert _versions(db_session, head.account_id)[head.account_id] > before.get(head.account_id, 0)
    for account_id in holders:
        assert _versions(db_session, account_id).get(account_id, 0) > 0

    row = db_session.scalar(sa.select(PluginInstall).limit(1))
    if row is None:
        db_session.add(PluginInstall(plugin="jizuo-test-plugin", version="0.1", school_id=grade.school_id, enabled=True))
    else:
        row.enabled = not row.enabled
    db_session.commit()
    assert _versions(db_session, EVERYONE)[EVERYONE] > before.get(EVERYONE, 0)
