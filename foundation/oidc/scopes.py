"""Scopes Jizuo grants, with their Chinese and English labels (shown on the consent page) and the
capabilities an API scope lets a token use. Plugins add theirs with :func:`declare_scope`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeDef:
    name: str
    zh: str
    en: str
    capabilities: frozenset[str] = frozenset()


SCOPES: dict[str, ScopeDef] = {}


def declare_scope(name: str, zh: str, en: str, capabilities: set[str] | frozenset[str] = frozenset()) -> None:
    """Add a scope, or widen an existing one with more capabilities (its labels stay)."""
    old = SCOPES.get(name)
    if old is not None:
        SCOPES[name] = ScopeDef(name, old.zh, old.en, old.capabilities | frozenset(capabilities))
    else:
        SCOPES[name] = ScopeDef(name, zh, en, frozenset(capabilities))


def declare_library_scopes(libraries: dict[str, dict]) -> None:
    """``<scope>.read`` / ``<scope>.write`` for each library of the standard (e.g. ``cards.write``)."""
    for lib in libraries.values():
        scope, title = lib.get("scope"), lib["title"]
        if not scope:
            continue
        declare_scope(f"{scope}.read", f"读取{title['zh']}", f"Read {title['en']}", {f"records.{lib['id']}.read"})
        declare_scope(f"{scope}.write", f"写入{title['zh']}", f"Write {title['en']}", {f"records.{lib['id']}.write"})


for _s in [
    ScopeDef("openid", "确认您的身份", "Confirm who you are"),
    ScopeDef("profile", "您的姓名", "Your name"),
    ScopeDef("roles", "您的角色和所在学校、班级", "Your roles, school and classes"),
    ScopeDef("children", "您孩子的编号（家长）", "Your children's ids (parents)"),
    ScopeDef("offline_access", "在您离开后继续访问（刷新令牌）", "Keep access while you are away (refresh tokens)"),
    ScopeDef("org.read", "查看组织架构", "Read the org tree", frozenset({"org.read"})),
    ScopeDef("students.read", "查看学生信息（身份证号脱敏）", "Read students (ID numbers masked)",
             frozenset({"org.read", "people.student.read"})),
    ScopeDef("students.write", "新增和修改学生信息", "Create and change students",
             frozenset({"people.student.create", "people.student.update"})),
    ScopeDef("staff.read", "查看教职工", "Read staff", frozenset({"people.staff.read"})),
    ScopeDef("guardians.read", "查看监护人（电话脱敏）", "Read guardians (phones masked)",
             frozenset({"people.guardian.read"})),
    ScopeDef("audit.read", "查看审计日志", "Read the audit log", frozenset({"audit.read"})),
]:
    SCOPES[_s.name] = _s

IDENTITY_SCOPES = frozenset({"openid", "profile", "roles", "children", "offline_access"})


def capabilities_of(scope: str | None) -> frozenset[str]:
    caps: set[str] = set()
    for name in (scope or "").split():
        if name in SCOPES:
            caps |= SCOPES[name].capabilities
    return frozenset(caps)


def unknown(scope: str | None) -> list[str]:
    return [s for s in (scope or "").split() if s not in SCOPES]
