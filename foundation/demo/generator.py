"""Build a synthetic, deterministic demo district into a database (see :func:`build_demo`).

Speed: Core ``executemany`` inserts in chunks of :data:`CHUNK`, with ids assigned here (``max(id) + 1``
onward, read in the same transaction; PostgreSQL sequences are moved past them at the end), so nobody
else may write to the database meanwhile. Atomicity: one transaction; an error leaves the database as
it was. Determinism: every choice comes from one ``random.Random(seed)`` and :data:`YEAR_START`; only
Fernet ciphertexts (random IV and timestamp inside; same plaintexts, same blind indexes) and
``created_at`` / ``updated_at`` (the time of the run) differ between runs.
"""
from __future__ import annotations

import random
import re
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from foundation.db import utcnow
from foundation.demo import names as N
from foundation.demo.planning import planning_demo
from foundation.models import Account, Guardian, GuardianLink, Membership, OrgUnit, Staff, Student
from foundation.security.fields import FieldCipher, cipher_for
from foundation.security.passwords import hash_password
from foundation.tenancy import unscoped

YEAR_START = date(2026, 9, 1)
REGION = "310105"  # 上海市长宁区: prefix of school codes and of students' ID numbers
DISTRICT = ("示范区教育局", "Demo District Education Bureau", "310105000")
CHUNK = 5000  # rows per executemany
TICK = 2000  # progress callback at least this often (rows)
TABLES = (OrgUnit, Staff, Student, Guardian, GuardianLink, Account, Membership)  # FK-safe order
SCHOOL_ROLES = ("school_admin", "homeroom_teacher", "subject_teacher", "psychology_teacher",
                "life_instructor", "grade_head", "dean", "principal", "student_cadre", "student", "parent")
DEMO_USERNAME = re.compile(r"s\d{3}\.(t\d{4}|[a-z_]+)")


def plugin_staff_roles() -> list[str]:
    """School-wide roles the loaded plugins bring (``jizuo_roles``, e.g. the aid plugin's aid_officer): each
    demo school gets one person holding each, logging in as ``s001.<role>``."""
    from foundation.permissions import ROLES

    return sorted(name for name, role in ROLES.items() if role.plugin is not None and role.reach == "school")
Progress = Callable[[str, int, int], None]


class _Writer:
    """Assigns ids and buffers rows per table; inserts them in chunks, parents before children."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn, self.now = conn, utcnow()
        self.next_id = {m: (conn.scalar(sa.select(sa.func.max(m.__table__.c.id))) or 0) + 1
                        for m in TABLES}
        self.rows: dict[type, list[dict[str, Any]]] = {m: [] for m in TABLES}
        self.stamped = {m: "created_at" in m.__table__.c for m in TABLES}
        self.counts = dict.fromkeys(TABLES, 0)

    def reserve(self, model: type) -> int:
        self.next_id[model] += 1
        return self.next_id[model] - 1

    def add(self, model: type, row: dict[str, Any]) -> int:
        """Queue ``row`` (every row of a table must carry the same keys) and return its id."""
        if row.get("id") is None:
            row["id"] = self.reserve(model)
        if self.stamped[model]:
            row["created_at"] = row["updated_at"] = self.now
        self.rows[model].append(row)
        self.counts[model] += 1
        if len(self.rows[model]) >= CHUNK:
            self.flush(model)
        return row["id"]

    def flush(self, upto: type | None = None) -> None:
        for m in TABLES:
            if self.rows[m]:
                self.conn.execute(sa.insert(m.__table__), self.rows[m])
                self.rows[m] = []
            if m is upto:
                return

    def sync_sequences(self) -> None:
        if self.conn.dialect.name == "postgresql":  # SQLite's rowid continues after the largest id
            for t in (m.__tablename__ for m in TABLES):
                self.conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), m)"
                                          f" FROM (SELECT max(id) AS m FROM {t}) s WHERE m IS NOT NULL"))


def _unit(id_: int | None, kind: str, name: str, name_en: str, code: str, parent: int | None,
          school: int | None, stage: str | None = None, entry_year: int | None = None, seq: int = 0) -> dict:
    return {"id": id_, "kind": kind, "name": name, "name_en": name_en, "code": code, "parent_id": parent,
            "school_id": school, "stage": stage, "entry_year": entry_year, "seq": seq, "active": True}


_Class = namedtuple("_Class", "id grade seq entry_year size")


@dataclass(eq=False)
class _School:
    index: int
    id: int
    name: str
    stage: str
    classes: list[_Class] = field(default_factory=list)
    sample: _Class | None = None  # the class of the sample homeroom teacher, student, cadre, parent
    n_staff: int = 0
    logins: dict[str, str] = field(default_factory=dict)  # role → username
    grade_units: dict[int, int] = field(default_factory=dict)  # grade → its org unit id

    @property
    def prefix(self) -> str:
        return f"s{self.index:03d}"


class _Demo:
    def __init__(self, rng: random.Random, cipher: FieldCipher, w: _Writer, sps: int, report: Progress):
        self.rng, self.cipher, self.w, self.sps, self.report = rng, cipher, w, sps, report
        self.used_ids: set[str] = set()  # first 17 digits of every ID number handed out
        self.used_phones: set[str] = set()
        self.minorities, self.minority_cum = N.minorities()
        self.schools: list[_School] = []
        self.kids: list[tuple[int, int, str, int, int]] = []  # id, school, surname, birth year, guardians
        self.samples: dict[int, _School] = {}  # sample student id → school (its first guardian: parent)
        # (username, display name, person kind, person id, school id, [(role, org unit id)])
        self.accounts: list[tuple[str, str, str | None, int | None, int | None, list[tuple[str, int]]]] = []

    # -- schools, org units and staff -----------------------------------------------------------
    def school(self, index: int, stage: str, name: str, name_en: str, district_id: int) -> None:
        rng, w = self.rng, self.w
        first, last = N.STAGES[stage][:2]
        code = f"{REGION}{index:04d}"
        sid = w.reserve(OrgUnit)  # a school's school_id is its own id
        w.add(OrgUnit, _unit(sid, "school", name, name_en, code, district_id, sid, stage=stage, seq=index))
        s = _School(index, sid, name, stage)
        for grade, sizes in N.plan_grades(first, last, self.sps):
            entry = YEAR_START.year - (grade - first)
            gid = w.add(OrgUnit, _unit(None, "grade", *N.grade_name(grade, stage), f"{code}-G{grade:02d}",
                                       sid, sid, entry_year=entry, seq=grade))
            s.grade_units[grade] = gid
            for seq, size in enumerate(sizes, 1):
                ccode = f"{code}-C{grade:02d}-{seq:02d}"
                cid = w.add(OrgUnit, _unit(None, "class", *N.class_name(grade, seq, stage), ccode, gid, sid,
                                           entry_year=entry, seq=seq))
                s.classes.append(_Class(cid, grade, seq, entry, size))
        depts = {zh: w.add(OrgUnit, _unit(None, "department", zh, en, f"{code}-D{n}", sid, sid, seq=n))
                 for n, (zh, en) in enumerate(N.DEPARTMENTS[: 3 if rng.random() < 2 / 3 else 2], 1)}
        s.sample = rng.choice(s.classes)
        self.staff_of(s, depts)
        self.schools.append(s)

    def staff(self, s: _School, title: str, subject: str | None, dept: int | None, male_share: float,
              username: str | None, grants: list[tuple[str, int]]) -> str:
        male = self.rng.random() < male_share
        name = N.person_name(self.rng, male)
        s.n_staff += 1
        staff_id = self.w.add(Staff, {"school_id": s.id, "staff_no": f"T{s.n_staff:04d}", "name": name,
                                      "sex_code": "1" if male else "2", "title": title, "subject": subject,
                                      "department_id": dept, "active": True})
        username = username or f"{s.prefix}.t{s.n_staff:04d}"
        self.accounts.append((username, name, "staff", staff_id, s.id, grants))
        return username

    def staff_of(self, s: _School, depts: dict[str, int]) -> None:
        rng, p = self.rng, s.prefix
        group = {"语文": depts.get("语文教研组"), "数学": depts.get("数学教研组")}
        moral = depts.get("德育处")
        s.logins["school_admin"] = self.staff(s, "学校管理员", None, None, 0.5, f"{p}.admin",
                                              [("school_admin", s.id)])
        for c in s.classes:
            subj = rng.choice(N.HOMEROOM_SUBJECTS)
            u = self.staff(s, f"班主任 / {subj}教师", subj, group.get(subj), 0.3, None,
                           [("homeroom_teacher", c.id)])
            if c is s.sample:
                s.logins["homeroom_teacher"] = u
        by_grade: dict[int, list[_Class]] = {}
        for c in s.classes:
            by_grade.setdefault(c.grade, []).append(c)
        for grade, classes in by_grade.items():
            for j, subj in enumerate(rng.sample(N.SUBJECTS[s.stage], 3)):
                taught = rng.sample(classes, min(len(classes), rng.randint(2, 4)))
                # the sample subject teacher teaches the sample class
                lead = j == 0 and grade == s.sample.grade
                if lead and s.sample not in taught:
                    taught[0] = s.sample
                taught.sort(key=lambda c: c.seq)
                u = self.staff(s, f"{subj}教师", subj, group.get(subj), 0.3, None,
                               [("subject_teacher", c.id) for c in taught])
                if lead:
                    s.logins["subject_teacher"] = u
        from foundation.permissions import ROLES

        for role, title, subj, male_share, suffix in (
            ("psychology_teacher", "心理教师", "心理健康", 0.3, "psych"),
            ("life_instructor", "生活教官", None, 0.8, "life"),
            *[(name, ROLES[name].zh, None, 0.4, name) for name in plugin_staff_roles()],
        ):
            s.logins[role] = self.staff(s, title, subj, moral, male_share, f"{p}.{suffix}", [(role, s.id)])
        # the approvers of a long leave after the homeroom teacher: the sample class's grade head, the dean and
        # the principal; drawn from their own random stream, so everyone else stays who they were
        rng, self.rng = self.rng, random.Random(f"approvers-{s.index}")
        try:
            s.logins["grade_head"] = self.staff(s, "年级组长", None, moral, 0.4, f"{p}.grade_head",
                                                [("grade_head", s.grade_units[s.sample.grade])])
            s.logins["dean"] = self.staff(s, "政教主任", None, moral, 0.5, f"{p}.dean", [("dean", s.id)])
            s.logins["principal"] = self.staff(s, "校长", None, None, 0.5, f"{p}.principal", [("principal", s.id)])
        finally:
            self.rng = rng

    # -- students and guardians -----------------------------------------------------------------
    def students(self, s: _School, done: int, total: int) -> int:
        rng, w, cipher = self.rng, self.w, self.cipher
        boarding = 0.0 if s.stage == "primary" else 0.3
        for c in s.classes:
            # the sample student and cadre (every class has at least 2 students)
            picks = rng.sample(range(c.size), 2) if c is s.sample else []
            for n in range(c.size):
                male = rng.random() < 0.51
                family = N.surname(rng)
                name = family + N.given_name(rng, male)
                eth = ("01" if rng.random() < 0.91
                       else rng.choices(self.minorities, cum_weights=self.minority_cum)[0])
                # born in the school year that makes them 6 on entering grade 1; 5% a year older
                born = date(YEAR_START.year - 6 - c.grade - (rng.random() < 0.05), 9, 1)
                born += timedelta(days=rng.randrange(365))
                idn = N.id_number(rng, self.used_ids, REGION, born, male)
                stid = w.add(Student, {
                    "school_id": s.id, "student_no": f"{c.entry_year}{c.seq:02d}{n + 1:02d}", "name": name,
                    "sex_code": "1" if male else "2", "ethnicity_code": eth, "birth_date": born,
                    "id_number_enc": cipher.encrypt(idn), "id_number_hash": cipher.blind_index(idn),
                    "class_id": c.id, "boarding": rng.random() < boarding, "status_code": "01"})
                self.kids.append((stid, s.id, family, born.year, 2 if rng.random() < 0.5 else 1))
                if n in picks:
                    role, username = ("student", f"{s.prefix}.student") if n == picks[0] else (
                        "student_cadre", f"{s.prefix}.cadre")
                    if role == "student":
                        self.samples[stid] = s  # the student's first guardian gets the parent login
                    self.accounts.append((username, name, "student", stid, s.id, [(role, c.id)]))
                    s.logins[role] = username
                done += 1
                if done % TICK == 0:
                    self.report("students", done, total)
        return done

    def guardians(self) -> None:
        rng, w, cipher = self.rng, self.w, self.cipher
        total, done = sum(k[4] for k in self.kids), 0
        self.report("guardians", 0, total)
        for stid, school_id, family, year, count in self.kids:
            r = rng.random()
            rels = ["52" if r < 0.55 else "51" if r < 0.9 else rng.choice(N.GRANDPARENTS)]
            if count == 2:
                rels.append(N.PAIR[rels[0]] if rng.random() < 0.9 else rng.choice([g for g in N.GRANDPARENTS
                                                                                 if g != rels[0]]))
            for j, rel in enumerate(rels):
                male = rel in N.MALE_RELATIONS
                name = N.person_name(rng, male, family if rel in ("51", "61") else None)
                by = year - (rng.randint(23, 40) if rel in ("51", "52") else rng.randint(48, 66))
                ph = N.phone(rng, self.used_phones)
                id_hash = None
                if rng.random() < 0.4:
                    born = date(by, 1, 1) + timedelta(days=rng.randrange(365))
                    region = rng.choice(N.GUARDIAN_REGIONS)
                    id_hash = cipher.blind_index(N.id_number(rng, self.used_ids, region, born, male))
                gid = w.add(Guardian, {"name": name, "phone_enc": cipher.encrypt(ph),
                                       "phone_hash": cipher.blind_index(ph), "id_number_hash": id_hash})
                w.add(GuardianLink, {"guardian_id": gid, "student_id": stid, "school_id": school_id,
                                     "relation_code": rel, "is_primary": j == 0})
                if j == 0 and (s := self.samples.get(stid)):
                    s.logins["parent"] = f"{s.prefix}.parent"
                    self.accounts.append((s.logins["parent"], name, "guardian", gid, s.id,
                                          [("parent", s.id)]))
                done += 1
                if done % TICK == 0 or done == total:
                    self.report("guardians", done, total)

    def write_accounts(self, password_hash: str) -> None:
        w, total = self.w, len(self.accounts)
        self.report("accounts", 0, total)
        for done, (username, display, kind, pid, school_id, grants) in enumerate(self.accounts, 1):
            aid = w.add(Account, {"username": username, "password_hash": password_hash,
                                  "display_name": display, "person_kind": kind, "person_id": pid,
                                  "active": True, "failed_logins": 0})
            for role, unit in grants:
                w.add(Membership, {"account_id": aid, "role": role, "org_unit_id": unit,
                                   "school_id": school_id})
            if done % TICK == 0 or done == total:
                self.report("accounts", done, total)


def _check_fresh(conn: sa.Connection) -> None:
    units, accounts = OrgUnit.__table__.c, Account.__table__.c
    demo = sa.select(units.id).where(units.kind == "school", units.code.like(f"{REGION}%")).limit(1)
    if conn.scalar(demo) is not None:
        raise ValueError("database already holds a demo district; use a fresh database")
    names = conn.scalars(sa.select(accounts.username).where(
        sa.or_(accounts.username == "district.admin", accounts.username.like("s%.%"))))
    if taken := next((u for u in names if u == "district.admin" or DEMO_USERNAME.fullmatch(u)), None):
        raise ValueError(f"account {taken!r} already exists and the demo needs that name; "
                         "use a fresh database")


def build_demo(engine: sa.Engine, *, schools: int = 3, students_per_school: int = 600, seed: int = 1,
               password: str, secret_key: str, fast_hash: bool = False,
               progress: Progress | None = None) -> dict:
    """Write a demo district (schools, org tree, staff, students, guardians, accounts) in one
    transaction and return ``{"counts": {...}, "logins": [{"username", "role", "school", "school_id"}]}``.
    Every demo account has ``password``. Raises ValueError on bad arguments or a non-fresh database."""
    if not 1 <= schools <= 999:
        raise ValueError("schools must be between 1 and 999")
    if students_per_school < 2:
        raise ValueError("students_per_school must be at least 2")
    report: Progress = progress or (lambda _stage, _done, _total: None)
    rng = random.Random(seed)
    # One Argon2 hash shared by every demo account: hashing ~3,000+ accounts one by one with the strong
    # profile would take minutes, and every account still gets a full-strength hash of its password.
    password_hash = hash_password(password, fast=fast_hash)
    with unscoped("jizuo demo writes a whole district").session(engine) as sess:
        conn = sess.connection()
        _check_fresh(conn)
        w = _Writer(conn)
        units = OrgUnit.__table__.c
        district_id = conn.scalar(
            sa.select(units.id).where(units.kind == "district").order_by(units.id).limit(1))
        if district_id is None:
            district_id = w.add(OrgUnit, _unit(None, "district", *DISTRICT, None, None))
        demo = _Demo(rng, cipher_for(secret_key), w, students_per_school, report)
        demo.accounts.append(("district.admin", "区教育局管理员", None, None, None,
                              [("district_admin", district_id)]))
        roads = {stage: rng.sample(N.ROADS, len(N.ROADS)) for stage in N.ROAD_STAGES}
        roads["vocational"] = random.Random(seed * 7 + 3).sample(N.ROADS, len(N.ROADS))  # the main draws unmoved
        report("schools", 0, schools)
        cycle = len(N.STAGE_CYCLE)
        for i in range(schools):
            stage = N.STAGE_CYCLE[i % cycle]
            demo.school(i + 1, stage, *N.school_names(stage, i // cycle, roads[stage]), district_id)
            report("schools", i + 1, schools)
        total, done = schools * students_per_school, 0
        report("students", 0, total)
        for s in demo.schools:
            done = demo.students(s, done, total)
        if done % TICK:
            report("students", done, total)
        demo.guardians()
        demo.write_accounts(password_hash)
        w.flush()
        planning_demo(conn, demo.schools, YEAR_START.year, seed)  # enrolment history and facilities (issue 21)
        w.sync_sequences()
        sess.commit()
    logins = [{"username": "district.admin", "role": "district_admin", "school": None, "school_id": None}]
    for s in demo.schools:
        logins += [{"username": s.logins[r], "role": r, "school": s.name, "school_id": s.id}
                   for r in (*SCHOOL_ROLES, *plugin_staff_roles())]
    counts = {"schools": schools, "students": w.counts[Student], "staff": w.counts[Staff],
              "guardians": w.counts[Guardian], "classes": sum(len(s.classes) for s in demo.schools),
              "accounts": w.counts[Account]}
    return {"counts": counts, "logins": logins}
