"""Telling people and other code about cases: bus events (``alert.case.opened`` … for plugins) and messages
through the message center (assignees on opening and re-triggering, each escalation step's people and the
school admin on escalation). Red-alert messages are mandatory: nobody can switch them off."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from foundation import events, messaging

if TYPE_CHECKING:
    import sqlalchemy.orm as so

    from foundation.models import AlertCase

log = logging.getLogger("jizuo.alerts")

# in the platform only (inbox and live push): an alert names a student and what worries the school — a
# psychology screening, an aid label — which must not travel by e-mail or to the outside portal
CHANNELS = ["inbox", "push"]
_VARS = ["student_name", "rule", "rule_en", "level", "level_en", "count", "due", "step_role", "step_role_en"]
TYPES = [
    {"key": "alert.case.opened", "title": {"zh": "新预警", "en": "New alert"}, "variables": _VARS,
     "mandatory": True, "channels": CHANNELS,
     "template": {"zh": {"subject": "【{level}】{student_name}：{rule}",
                         "body": "{student_name} 触发了{level}：{rule}。请在 {due} 前处理。"},
                  "en": {"subject": "[{level_en}] {student_name}: {rule_en}",
                         "body": "{student_name} triggered a {level_en}: {rule_en}. Act before {due}."}}},
    {"key": "alert.case.retriggered", "title": {"zh": "预警再次触发", "en": "Alert triggered again"},
     "variables": _VARS, "mandatory": True, "channels": CHANNELS,
     "template": {"zh": {"subject": "【{level}】{student_name}：{rule}（第 {count} 次）",
                         "body": "{student_name} 再次触发{rule}，共 {count} 次。下一个期限：{due}。"},
                  "en": {"subject": "[{level_en}] {student_name}: {rule_en} (×{count})",
                         "body": "{student_name} triggered {rule_en} again ({count} times). Next deadline: {due}."}}},
    {"key": "alert.case.escalated", "title": {"zh": "预警超时升级", "en": "Alert escalated"},
     "variables": _VARS, "mandatory": True, "channels": CHANNELS,
     "template": {"zh": {"subject": "【超时升级】{student_name}：{rule}",
                         "body": "{student_name} 的{level}（{rule}）已超过处理期限 {due}，升级至：{step_role}。"},
                  "en": {"subject": "[Escalated] {student_name}: {rule_en}",
                         "body": "The {level_en} for {student_name} ({rule_en}) missed its deadline {due}; "
                                 "escalated to: {step_role_en}."}}},
]
_DIGEST_VARS = ["count", "students", "rule", "rule_en", "level", "level_en", "due"]
TYPES.append(
    {"key": "alert.case.digest", "title": {"zh": "多条新预警", "en": "New alerts"}, "variables": _DIGEST_VARS,
     "mandatory": True, "channels": CHANNELS,
     "template": {"zh": {"subject": "【{level}】{rule}：{count} 名学生",
                         "body": "{students} 触发了{rule}（{level}）。请在 {due} 前逐一处理。"},
                  "en": {"subject": "[{level_en}] {rule_en}: {count} students",
                         "body": "{students}: {rule_en} ({level_en}). Handle each before {due}."}}})
LEVEL_NAMES = {"red": {"zh": "红色预警", "en": "red alert"}, "yellow": {"zh": "黄色预警", "en": "yellow alert"}}


def payload(case: AlertCase) -> dict:
    return {"case_id": case.id, "rule": case.rule_key, "student_id": case.student_id,
            "school_id": case.school_id, "level": case.level}


def publish(kind: str, cases: list[AlertCase]) -> None:
    """``alert.case.<kind>`` on the event bus, one batch for all the cases."""
    if cases:
        events.publish(f"alert.case.{kind}", [payload(c) for c in cases])


_registered = False


def _register_types() -> None:
    global _registered
    if not _registered:
        for spec in TYPES:
            messaging.register_type(spec)
        _registered = True


def message_spec(type_key: str, case: AlertCase, accounts: list[int], *, student_name: str, dedupe_key: str,
                 due: str = "", step_role: str = "", extra_recipients: list[dict] | None = None,
                 step_role_en: str = "", sender_account_id: int | None = None) -> dict | None:
    """The message about ``case`` to ``accounts`` (plus any other selectors), as ``send``'s arguments;
    None when there is nobody to tell."""
    recipients = ([{"accounts": sorted(set(accounts))}] if accounts else []) + (extra_recipients or [])
    if not recipients:
        return None
    title = case.rule_title or {}
    return {"type_key": type_key, "recipients": recipients, "school_id": case.school_id, "dedupe_key": dedupe_key,
            "link": f"/alerts/{case.id}", "sender_account_id": sender_account_id,
            "variables": {"student_name": student_name, "rule": title.get("zh") or case.rule_key,
                          "rule_en": title.get("en") or case.rule_key, "level": LEVEL_NAMES[case.level]["zh"],
                          "level_en": LEVEL_NAMES[case.level]["en"], "count": case.count, "due": due,
                          "step_role": step_role, "step_role_en": step_role_en}}


def message(sess: so.Session, type_key: str, case: AlertCase, accounts: list[int], **kw) -> bool:
    """Send one message about ``case`` (the arguments of :func:`message_spec`), in the caller's
    transaction (the message center delivers after commit). False when there is nobody to tell."""
    spec = message_spec(type_key, case, accounts, **kw)
    if spec is None:
        return False
    _register_types()
    messaging.send(sess, **spec)
    return True


def digest_spec(cases: list[AlertCase], accounts: list[int], *, names: list[str], due: str,
                dedupe_key: str) -> dict | None:
    """One message about several cases of one rule for the same people (a scheduled scan's batch): a teacher
    gets "3 students: …" once instead of three messages. None when there is nobody to tell."""
    if not accounts:
        return None
    first = cases[0]
    level = "red" if any(c.level == "red" for c in cases) else "yellow"
    shown = "、".join(names[:10]) + ("…" if len(names) > 10 else "")
    return {"type_key": "alert.case.digest", "recipients": [{"accounts": sorted(set(accounts))}],
            "school_id": first.school_id, "dedupe_key": dedupe_key, "link": "/alerts",
            "variables": {"count": len(cases), "students": shown,
                          "rule": (first.rule_title or {}).get("zh") or first.rule_key,
                          "rule_en": (first.rule_title or {}).get("en") or first.rule_key,
                          "level": LEVEL_NAMES[level]["zh"], "level_en": LEVEL_NAMES[level]["en"], "due": due}}


def tell(sess: so.Session, specs: list[dict | None]) -> int:
    """Send every message of a batch (``message_spec``/``digest_spec`` results) in one ``send_many``."""
    specs = [s for s in specs if s is not None]
    if specs:
        _register_types()
        messaging.send_many(sess, specs)
    return len(specs)


_register_types()  # the alert messages are known to the message center (preferences, type list) from the start
