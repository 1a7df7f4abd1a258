"""Roles, capability strings and the one place they are checked.

A capability is a dotted string (``people.student.read``), granted to roles; a role is held at an org
unit through a membership. What rows a role reaches is its *reach*: the whole school, its classes
(homeroom / subject teachers), its own children (parents) or itself (students). Deny by default.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from foundation.tenancy import Scope

CAPABILITIES: dict[str, dict[str, str]] = {
    "org.read": {"zh": "查看组织架构", "en": "View the org tree"},
    "org.manage": {"zh": "管理组织架构", "en": "Manage the org tree"},
    "people.student.read": {"zh": "查看学生", "en": "View students"},
    "people.student.create": {"zh": "新增学生", "en": "Create students"},
    "people.student.update": {"zh": "修改学生", "en": "Update students"},
    "people.student.id_number.reveal": {"zh": "查看完整身份证号", "en": "Reveal full ID numbers"},
    "people.staff.read": {"zh": "查看教职工", "en": "View staff"},
    "people.staff.manage": {"zh": "管理教职工", "en": "Manage staff"},
    "people.guardian.read": {"zh": "查看监护人", "en": "View guardians"},
    "people.guardian.manage": {"zh": "管理监护人", "en": "Manage guardians"},
    "accounts.manage": {"zh": "管理账号", "en": "Manage accounts"},
    "clients.manage": {"zh": "登记接入应用（OIDC 客户端）", "en": "Register apps (OIDC clients)"},
    "audit.read": {"zh": "查看审计日志", "en": "Read the audit log"},
    "district.cross_school": {"zh": "跨校操作（留痕）", "en": "Cross schools (audited)"},
    "district.figures.read": {"zh": "查看全区脱敏统计", "en": "See the district's desensitised figures"},
    "records.*.read": {"zh": "读取业务库数据（高敏感库另需授权角色）", "en": "Read business records (highly sensitive ones need a granted role)"},
    "records.*.write": {"zh": "写入业务库数据", "en": "Write business records"},
    "conflicts.resolve": {"zh": "处理数据冲突", "en": "Resolve data conflicts"},
    "square.review": {"zh": "审核、发布和淘汰应用广场中的应用", "en": "Review, publish and retire apps in the app square"},
    "lowcode.form.read": {"zh": "查看表单", "en": "See forms"},
    "lowcode.form.create": {"zh": "创建和克隆表单", "en": "Create and clone forms"},
    "lowcode.form.submit": {"zh": "填写表单", "en": "Fill in forms"},
    "lowcode.submission.read": {"zh": "查看本校表单的填报", "en": "Read the school's form submissions"},
    "lowcode.approve": {"zh": "在审批流程中审批、指定代理人", "en": "Approve in approval flows and name a deputy"},
    "plugins.manage": {"zh": "安装、启用、配置和卸载应用", "en": "Install, enable, configure and uninstall plugins"},
    "standards.manage": {"zh": "管理数据标准、权威源和数据源", "en": "Manage standards, authorities and sources"},
    "alerts.case.read": {"zh": "查看预警（本班或分派给自己的）", "en": "See alert cases (own classes' or assigned)"},
    "alerts.case.act": {"zh": "处理预警：联系、计划、跟进、评估、结案", "en": "Handle alert cases: contact, plan, follow up, evaluate, close"},
    "alerts.overview": {"zh": "查看全校预警总览与统计", "en": "See the school's alert overview and figures"},
    "alerts.configure": {"zh": "设置预警期限、升级链和校历", "en": "Set alert deadlines, escalation chain and school calendar"},
}

_STAFF_READ = {"org.read", "people.student.read", "people.staff.read", "records.*.read", "lowcode.form.read",
               "lowcode.form.create", "lowcode.form.submit", "lowcode.approve"}
_FILL = {"lowcode.form.read", "lowcode.form.submit"}
_ADMIN = {
    "org.read", "org.manage", "people.student.read", "people.student.create", "people.student.update",
    "people.student.id_number.reveal", "people.staff.read", "people.staff.manage", "people.guardian.read",
    "people.guardian.manage", "accounts.manage", "audit.read", "clients.manage", "records.*.read",
    "records.*.write", "conflicts.resolve", "plugins.manage", "lowcode.form.read", "lowcode.form.create",
    "lowcode.form.submit", "lowcode.submission.read",
}

# the alert engine: staff who handle cases; school admins also see the whole school's and set its rules
_ALERT_STAFF = {"alerts.case.read", "alerts.case.act"}
_ALERT_ADMIN = _ALERT_STAFF | {"alerts.overview", "alerts.configure"}


@dataclass(frozen=True)
class Role:
    name: str
    zh: str
    en: str
    reach: str  # district | school | class | self | children
    capabilities: frozenset[str]
    plugin: str | None = None  # declared by this plugin (jizuo_roles), else the core's


ROLES: dict[str, Role] = {
    r.name: r
    for r in [
        Role("district_admin", "区管理员", "District admin", "district",
             frozenset(_ADMIN | {"district.cross_school", "district.figures.read", "standards.manage", "square.review"}
                       | _ALERT_ADMIN)),
        Role("school_admin", "学校管理员", "School admin", "school", frozenset(_ADMIN | _ALERT_ADMIN)),
        Role("homeroom_teacher", "班主任", "Homeroom teacher", "class",
             frozenset(_STAFF_READ | {"people.student.update", "people.guardian.read", "people.guardian.manage"}
                       | _ALERT_STAFF)),
        # 年级组长: held at a grade, reaches its classes (an alert's escalation step after the homeroom teacher)
        Role("grade_head", "年级组长", "Grade head", "class", frozenset(_STAFF_READ | {"people.guardian.read"}
                                                                    | _ALERT_STAFF)),
        # 政教主任 and 校长: school-wide approvers in flows (a long leave's last step, a grant's)
        Role("dean", "政教主任", "Dean of students", "school",
             frozenset(_STAFF_READ | {"people.guardian.read", "lowcode.submission.read"})),
        Role("principal", "校长", "Principal", "school",
             frozenset(_STAFF_READ | {"people.guardian.read", "lowcode.submission.read"})),
        Role("subject_teacher", "任课教师", "Subject teacher", "class", frozenset(_STAFF_READ)),
        Role("psychology_teacher", "心理教师", "Psychology teacher", "school",
             frozenset(_STAFF_READ | {"people.guardian.read"} | _ALERT_STAFF)),
        Role("life_instructor", "生活教官", "Life instructor", "school", frozenset(_STAFF_READ | _ALERT_STAFF)),
        Role("student_cadre", "学生干部", "Student cadre", "self", frozenset({"org.read", "people.student.read"} | _FILL)),
        Role("student", "学生", "Student", "self", frozenset({"org.read", "people.student.read"} | _FILL)),
        Role("parent", "家长", "Parent", "children",
             frozenset({"org.read", "people.student.read", "people.guardian.read"} | _FILL)),
    ]
}


# The message center's capabilities and who holds them (kept in one block, added to the roles above).
CAPABILITIES.update({
    "messages.send.class": {"zh": "向本班家长和学生发通知", "en": "Send notices to the parents and students of one's classes"},
    "messages.send.school": {"zh": "向本校角色和全校发通知", "en": "Send notices to roles and the whole school"},
    "messages.send.district": {"zh": "向全区发通知", "en": "Send notices to the whole district"},
    "messages.figures.read": {"zh": "查看家校沟通统计", "en": "See home-school communication figures"},
    "messages.deadletter.manage": {"zh": "查看和重发投递失败的消息", "en": "See and replay undeliverable messages"},
})
_MSG_ADMIN = {"messages.send.class", "messages.send.school", "messages.figures.read", "messages.deadletter.manage"}
for _role, _extra in {"district_admin": _MSG_ADMIN | {"messages.send.district"}, "school_admin": _MSG_ADMIN,
                      "homeroom_teacher": {"messages.send.class", "messages.figures.read"}}.items():
    ROLES[_role] = replace(ROLES[_role], capabilities=ROLES[_role].capabilities | _extra)


# What of the core a plugin's role may hold (jizuo_roles): reading the school's people and records and
# handling alert cases. Managing accounts, people or the district stays with the core's roles.
PLUGIN_ROLE_CORE_CAPS = frozenset(_STAFF_READ | {"people.guardian.read"} | _ALERT_STAFF)
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{2,31}$")


class RoleError(ValueError):
    """A plugin's role declaration is malformed or claims what a plugin's role may not hold."""


def declare_role(spec: dict, plugin: str) -> Role:
    """Add a role a plugin declares (``jizuo_roles``): ``{"name", "zh", "en", "reach": "school" | "class" |
    "self" | "children", "capabilities": [core capabilities, among PLUGIN_ROLE_CORE_CAPS]}``. The plugin's
    own capabilities for it come from its ``jizuo_role_grants``. A core role cannot be redeclared."""
    name = spec.get("name") if isinstance(spec, dict) else None
    if not isinstance(name, str) or not _ROLE_NAME.match(name):
        raise RoleError(f"role name {name!r}: 3-32 characters of a-z 0-9 _")
    have = ROLES.get(name)
    if have is not None and have.plugin != plugin:
        raise RoleError(f"role {name} is already the {'core' if have.plugin is None else have.plugin}'s")
    if not all(isinstance(spec.get(k), str) and spec[k].strip() for k in ("zh", "en")):
        raise RoleError(f"role {name}: zh and en titles are required")
    if spec.get("reach") not in ("school", "class", "self", "children"):
        raise RoleError(f"role {name}: reach is school, class, self or children")
    caps = spec.get("capabilities") or []
    if not isinstance(caps, list) or not set(caps) <= PLUGIN_ROLE_CORE_CAPS:
        extra = sorted(set(caps) - PLUGIN_ROLE_CORE_CAPS) if isinstance(caps, list) else caps
        raise RoleError(f"role {name}: a plugin's role may not hold {extra}")
    role = Role(name, spec["zh"], spec["en"], spec["reach"], frozenset(caps), plugin=plugin)
    ROLES[name] = role
    return role


@dataclass(frozen=True)
class Grant:
    role: str
    org_unit_id: int
    school_id: int | None
    class_ids: frozenset[int] = frozenset()  # for class-reach roles: the classes at or under the unit


@dataclass
class Principal:
    """The account acting in this request, with its grants and what they reach."""

    account_id: int | None
    username: str
    display_name: str
    person_kind: str | None
    person_id: int | None
    grants: list[Grant]
    children_ids: frozenset[int] = frozenset()
    district_school_id: int | None = None  # a district admin's explicitly entered school
    # set when the request carries a bearer token (foundation/oidc/bearer.py):
    token_caps: frozenset[str] | None = None  # what the token's scopes allow; None = a browser session
    client_school_id: int | None = None  # the token's client is registered for this one school
    client_id: str | None = None
    machine: bool = False  # client credentials: the client acts as itself, with no person behind it
    plugin_caps: dict[int, set[str]] = field(default_factory=dict)  # granted by enabled plugins, per school
    extra: dict = field(default_factory=dict)

    @property
    def roles(self) -> list[str]:
        return sorted({g.role for g in self.grants})

    @property
    def is_district(self) -> bool:
        if self.machine:
            return self.client_school_id is None
        return any(ROLES[g.role].reach == "district" for g in self.grants)

    def school_ids(self) -> set[int]:
        if self.machine:
            own = self.client_school_id if self.client_school_id is not None else self.district_school_id
            return {own} if own is not None else set()
        ids = {g.school_id for g in self.grants if g.school_id is not None}
        if self.is_district and self.district_school_id is not None:
            ids.add(self.district_school_id)
        if self.client_school_id is not None:
            ids &= {self.client_school_id}
        return ids

    def capabilities(self, school_id: int | None = None) -> set[str]:
        """Capabilities held in ``school_id`` (or anywhere, when None), within a token's scope."""
        if self.machine:
            ok = school_id is None or school_id in self.school_ids()
            return set(self.token_caps or ()) if ok else set()
        caps = self._role_capabilities(school_id)
        if self.client_school_id is not None and school_id is not None and school_id != self.client_school_id:
            return set()
        if self.token_caps is not None:
            caps &= self.token_caps
        return caps

    def _role_capabilities(self, school_id: int | None) -> set[str]:
        caps: set[str] = set()
        for school, granted in self.plugin_caps.items():
            if school_id is None or school == school_id:
                caps |= granted
        for g in self.grants:
            role = ROLES[g.role]
            if role.reach == "district":
                if school_id is None or school_id == self.district_school_id:
                    caps |= role.capabilities
            elif school_id is None or g.school_id == school_id:
                caps |= role.capabilities
        return caps

    def can(self, capability: str, school_id: int | None = None) -> bool:
        """Does the principal hold ``capability`` (in ``school_id``)? Granted capabilities may carry
        ``*`` wildcards (``records.*.read``); a token's scopes narrow them."""
        if self.machine:
            ok = school_id is None or school_id in self.school_ids()
            return ok and _matches(capability, self.token_caps or ())
        if self.client_school_id is not None and school_id is not None and school_id != self.client_school_id:
            return False
        if not _matches(capability, self._role_capabilities(school_id)):
            return False
        return self.token_caps is None or _matches(capability, self.token_caps)

    def scope(self) -> Scope:
        if self.machine:
            own = frozenset(self.school_ids())
            return Scope(school_ids=own, full_school_ids=own, district_level=self.is_district)
        schools, full, classes = set(), set(), set()
        for g in self.grants:
            reach = ROLES[g.role].reach
            if reach == "district":
                if self.district_school_id is not None:
                    schools.add(self.district_school_id)
                    full.add(self.district_school_id)
                continue
            if g.school_id is not None:
                schools.add(g.school_id)
            if reach == "school" and g.school_id is not None:
                full.add(g.school_id)
            elif reach == "class":
                classes |= g.class_ids
        students = set(self.children_ids)
        if self.person_kind == "student" and self.person_id is not None:
            students.add(self.person_id)
        if self.client_school_id is not None:  # a token of a school's client reaches that school only
            schools &= {self.client_school_id}
            full &= {self.client_school_id}
        return Scope(
            school_ids=frozenset(schools),
            full_school_ids=frozenset(full),
            class_ids=frozenset(classes),
            student_ids=frozenset(students),
            guardian_ids=frozenset({self.person_id} if self.person_kind == "guardian" and self.person_id else ()),
            district_level=self.is_district,
        )


def _matches(capability: str, granted) -> bool:
    return capability in granted or any("*" in g and fnmatchcase(capability, g) for g in granted)


class Forbidden(Exception):
    def __init__(self, capability: str) -> None:
        super().__init__(capability)
        self.capability = capability


def require(principal: Principal | None, capability: str, school_id: int | None = None) -> None:
    """The one permission check: raise :class:`Forbidden` unless ``principal`` holds ``capability``
    (in ``school_id`` when given)."""
    if principal is None or not principal.can(capability, school_id):
        raise Forbidden(capability)
