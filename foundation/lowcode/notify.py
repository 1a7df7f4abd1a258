"""What an app's submission sets off, in the submission's own transaction: its rules (a yellow or red
alert through the alert engine, or a message to a role through the message center) and its approval
flow (foundation/lowcode/flow.py); and the flow's messages: each approver at their step, reminders and
escalations, the submitter at each decision, when it is returned for changes and at the end, the CC roles
at the end."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.models import FormVersion, LowcodeForm, Student, Submission
from foundation.permissions import ROLES

TYPES = [
    {"key": "lowcode.rule", "title": {"zh": "应用规则提醒", "en": "App rule notice"},
     "template": {"zh": {"subject": "{app}：{rule}", "body": "{student_name} 的填报触发了规则「{rule}」（{field}：{value}）。"},
                  "en": {"subject": "{app_en}: {rule_en}", "body": "A submission for {student_name} met the rule "
                                                                    "\"{rule_en}\" ({field_en}: {value_en})."}},
     "variables": ["app", "app_en", "rule", "rule_en", "field", "field_en", "value", "value_en", "student_name"],
     "mandatory": False,
     "link_label": {"zh": "查看应用", "en": "Open the app"}},
    {"key": "lowcode.approval.requested", "title": {"zh": "待审批", "en": "Awaiting approval"},
     "template": {"zh": {"subject": "{app}：待审批", "body": "{submitter} 提交了「{app}」（{student_name}），请审批。"},
                  "en": {"subject": "{app_en}: awaiting approval",
                         "body": "{submitter} submitted \"{app_en}\" ({student_name}); please approve or reject it."}},
     "variables": ["app", "app_en", "submitter", "student_name"], "mandatory": False,
     "link_label": {"zh": "去审批", "en": "Review it"}},
    # the decision's words carry their own 已 (已批准 / 未批准): the body does not add another
    {"key": "lowcode.approval.decided", "title": {"zh": "审批结果", "en": "Approval decision"},
     "template": {"zh": {"subject": "{app}：{decision_zh}",
                         "body": "您提交的「{app}」（{student_name}）{decision_zh}。审批人：{approver}。{note}"},
                  "en": {"subject": "{app_en}: {decision_en}",
                         "body": "Your \"{app_en}\" ({student_name}) was {decision_en} by {approver}. {note_en}"}},
     "variables": ["app", "app_en", "decision_zh", "decision_en", "student_name", "approver", "note", "note_en"],
     "mandatory": True, "link_label": {"zh": "查看申请", "en": "View the request"}},
    {"key": "lowcode.flow.step_decided", "title": {"zh": "审批进度", "en": "Approval step decided"},
     "template": {"zh": {"subject": "{app}：{step}{decision_zh}",
                         "body": "您提交的「{app}」（{student_name}）在「{step}」一步{decision_zh}（{approver}），"
                                 "接下来由「{next_step}」审批。{note}"},
                  "en": {"subject": "{app_en}: {step_en} {decision_en}",
                         "body": "Your \"{app_en}\" ({student_name}) was {decision_en} at \"{step_en}\" by {approver}; "
                                 "next: \"{next_step_en}\". {note_en}"}},
     "variables": ["app", "app_en", "step", "step_en", "next_step", "next_step_en", "decision_zh", "decision_en",
                   "student_name", "approver", "note", "note_en"],
     "mandatory": False, "link_label": {"zh": "查看进度", "en": "See its progress"}},
    {"key": "lowcode.flow.returned", "title": {"zh": "退回修改", "en": "Returned for changes"},
     "template": {"zh": {"subject": "{app}：退回修改",
                         "body": "您提交的「{app}」（{student_name}）在「{step}」一步被退回修改（{approver}）。{note}"
                                 "请修改后重新提交。"},
                  "en": {"subject": "{app_en}: returned for changes",
                         "body": "Your \"{app_en}\" ({student_name}) was returned for changes at \"{step_en}\" by "
                                 "{approver}. {note_en} Please change it and submit it again."}},
     "variables": ["app", "app_en", "step", "step_en", "student_name", "approver", "note", "note_en"],
     "mandatory": True, "link_label": {"zh": "去修改", "en": "Change it"}},
    {"key": "lowcode.flow.reminder", "title": {"zh": "审批到期提醒", "en": "Approval due"},
     "template": {"zh": {"subject": "{app}：审批已到期", "body": "{submitter} 提交的「{app}」（{student_name}）在「{step}」一步"
                                                              "等待您审批，已到期限，请尽快处理；再过一个上课日将升级。"},
                  "en": {"subject": "{app_en}: approval due",
                         "body": "\"{app_en}\" ({student_name}) from {submitter} is waiting for you at \"{step_en}\" and "
                                 "is now due; one school day more and it is escalated."}},
     "variables": ["app", "app_en", "submitter", "student_name", "step", "step_en"], "mandatory": False,
     "link_label": {"zh": "去审批", "en": "Review it"}},
    {"key": "lowcode.flow.escalated", "title": {"zh": "审批升级", "en": "Approval escalated to you"},
     "template": {"zh": {"subject": "{app}：审批已转给您", "body": "{submitter} 提交的「{app}」（{student_name}）在「{step}」一步"
                                                               "未按期审批，现请您审批。"},
                  "en": {"subject": "{app_en}: escalated to you",
                         "body": "\"{app_en}\" ({student_name}) from {submitter} was not decided in time at "
                                 "\"{step_en}\"; please decide it."}},
     "variables": ["app", "app_en", "submitter", "student_name", "step", "step_en"], "mandatory": False,
     "link_label": {"zh": "去审批", "en": "Review it"}},
    {"key": "lowcode.flow.cc", "title": {"zh": "审批抄送", "en": "Approval outcome (cc)"},
     "template": {"zh": {"subject": "{app}：{decision_zh}（抄送）", "body": "{submitter} 提交的「{app}」（{student_name}）{decision_zh}。"},
                  "en": {"subject": "{app_en}: {decision_en} (cc)",
                         "body": "\"{app_en}\" ({student_name}) from {submitter} was {decision_en}."}},
     "variables": ["app", "app_en", "submitter", "student_name", "decision_zh", "decision_en"], "mandatory": False,
     "link_label": {"zh": "查看申请", "en": "View the request"}},
]
DECISIONS = {"approved": ("已批准", "approved"), "rejected": ("未批准", "not approved")}


_registered = False


def register_types() -> None:
    """The low-code message types, registered with the message center on first use."""
    global _registered
    from foundation.messaging import register_type

    for spec in TYPES:
        register_type(spec)
    _registered = True


def _recipient(role: str, row: Submission) -> dict:
    if role == "homeroom_teacher" and row.student_id is not None:
        return {"homeroom_of_student": row.student_id}
    if ROLES[role].reach == "class" and row.class_id is not None:
        return {"role": role, "class": row.class_id}
    return {"role": role, "school": row.school_id}


def _student_name(sess: so.Session, row: Submission) -> str:
    if row.student_id is None:
        return "—"
    return sess.scalar(sa.select(Student.name).where(Student.id == row.student_id)) or "—"


def _words(node, lang: str) -> str:
    """A field's or an option's words in ``lang`` (``x-jizuo-title``), else its plain ``title``."""
    if not isinstance(node, dict):
        return ""
    both = node.get("x-jizuo-title")
    if isinstance(both, dict) and isinstance(both.get(lang), str) and both[lang].strip():
        return both[lang]
    return node["title"] if isinstance(node.get("title"), str) else ""


def _rule_words(version: FormVersion, rule: dict, value) -> dict:
    """What a rule message says about the rule, its field and the value, in people's words (the field's
    title and the option's label, never the internal key), in both languages."""
    field = rule["when"]["field"]
    prop = ((version.schema or {}).get("properties") or {}).get(field) or {}
    names = ((version.ui_schema or {}).get(field) or {}).get("ui:enumNames") or []
    said = (rule.get("title") or {}) or ((rule["then"].get("message") or {}).get("text") or {})
    out = {}
    for lang, suffix in (("zh", ""), ("en", "_en")):
        shown = "" if value is None else str(value)
        for option in prop.get("oneOf") or []:
            if isinstance(option, dict) and option.get("const") == value:
                shown = _words(option, lang) or shown
        if value in (prop.get("enum") or []) and prop["enum"].index(value) < len(names):
            shown = str(names[prop["enum"].index(value)])
        out |= {f"rule{suffix}": said.get(lang) or said.get("zh") or rule["key"],
                f"field{suffix}": _words(prop, lang) or _words(prop, "zh") or field, f"value{suffix}": shown}
    return out


def _titles(form: LowcodeForm) -> dict:
    return {"app": form.title.get("zh", ""), "app_en": form.title.get("en") or form.title.get("zh", "")}


def _send(sess: so.Session, type_key: str, recipients: list[dict], variables: dict, row: Submission,
          dedupe: str, sender: int | None, link: str | None = None) -> None:
    """One message about ``row``, from ``sender`` (the submitter asking, the approver deciding; None: the app
    itself), with a link to the app's page, which its submitter and its staff can open."""
    from foundation.messaging import send

    if not _registered:
        register_types()
    send(sess, type_key, recipients=recipients, variables=variables, school_id=row.school_id,
         sender_account_id=sender, dedupe_key=dedupe, link=link or f"/forms/{row.form_id}/app")


def after_submit(sess: so.Session, form: LowcodeForm, version: FormVersion, row: Submission) -> None:
    """The app's rules that ``row``'s data meets, each once per submission (a resubmission after a return
    fires only the rules its earlier answers did not)."""
    from foundation.lowcode.apps import fired

    app = version.app or {}
    titles = _titles(form)
    effects = list(row.effects or [])
    done = {e.get("rule") for e in effects}
    name = _student_name(sess, row)
    for rule in fired(app, row.data):
        if rule["key"] in done:
            continue
        field = rule["when"]["field"]
        value = row.data.get(field)
        if "alert" in rule["then"] and row.student_id is not None:
            from foundation.alerts import trigger
            from foundation.alerts.rules import parse
            from foundation.lowcode.rules import rule_spec

            known = parse(rule_spec(form, rule), school_id=row.school_id, lowcode=True)
            case = trigger(sess, known, student_id=row.student_id, school_id=row.school_id, value=value,
                           detail={"form_id": form.id, "submission_id": row.id, "field": field},
                           source=f"lowcode:{form.id}")
            effects.append({"rule": rule["key"], "alert": rule["then"]["alert"]["level"], "case_id": case.id})
        if "message" in rule["then"]:
            to = rule["then"]["message"]["to"]
            _send(sess, "lowcode.rule", [_recipient(to, row)],
                  titles | _rule_words(version, rule, value) | {"student_name": name},
                  row, f"lowcode.rule:{row.id}:{rule['key']}", sender=None)
            effects.append({"rule": rule["key"], "message": to})
    row.effects = effects


def _submitter(sess: so.Session, row: Submission) -> str:
    from foundation.models import Account

    return sess.scalar(sa.select(Account.display_name).where(Account.id == row.submitted_by)) or "—"


def _lang(text: dict, lang: str) -> str:
    return text.get(lang) or text.get("zh") or ""


def _subject(sess: so.Session, form: LowcodeForm, row: Submission) -> dict:
    return _titles(form) | {"submitter": _submitter(sess, row), "student_name": _student_name(sess, row)}


def _page(row: Submission) -> str:
    return f"/flow/submissions/{row.id}"


def flow_requested(sess: so.Session, form: LowcodeForm, row: Submission, step: dict, accounts: list[int],
                   deputies: list[int], escalated: bool) -> None:
    """Each approver at their step (and the deputies standing in for them): 待审批, or, escalated, 转给您."""
    from foundation.messaging import send

    if not _registered:
        register_types()
    to = list(dict.fromkeys(accounts + deputies))
    if not to:
        return
    kind = "lowcode.flow.escalated" if escalated else "lowcode.approval.requested"
    variables = _subject(sess, form, row) | {"step": _lang(step["title"], "zh"), "step_en": _lang(step["title"], "en")}
    send(sess, kind, recipients=[{"account": a} for a in to], variables=variables, school_id=row.school_id,
         sender_account_id=None if escalated else row.submitted_by,
         dedupe_key=f"{kind}:{row.id}:{step['key']}:{row.step_started_at:%Y%m%d%H%M%S%f}:{min(to)}:{len(to)}",
         link="/approvals")


def flow_reminded(sess: so.Session, form: LowcodeForm, row: Submission, step: dict, accounts: list[int]) -> None:
    from foundation.messaging import send

    if not _registered:
        register_types()
    if accounts:
        send(sess, "lowcode.flow.reminder", recipients=[{"account": a} for a in accounts],
             variables=_subject(sess, form, row) | {"step": _lang(step["title"], "zh"),
                                                     "step_en": _lang(step["title"], "en")},
             school_id=row.school_id, dedupe_key=f"lowcode.flow.reminder:{row.id}:{row.flow_step}:"
                                                 f"{row.step_started_at:%Y%m%d%H%M%S%f}", link="/approvals")


def _notes(note: str | None) -> dict:
    return {"note": f"审批意见：{note}" if note else "", "note_en": f"Note: {note}" if note else ""}


def flow_step_decided(sess: so.Session, form: LowcodeForm, row: Submission, flow: dict, step: dict, decision: str,
                      p, note: str | None) -> None:
    """The submitter, of a step approved with more to come (the outcome says the last one)."""
    from foundation.lowcode.apps import matches

    if not flow.get("notify_submitter", True) or row.submitted_by is None:
        return
    later = flow["steps"][flow["steps"].index(step) + 1:]
    nxt = next((s for s in later if "when" not in s or matches(s["when"], row.data or {})), step)
    zh, en = DECISIONS[decision]
    _send(sess, "lowcode.flow.step_decided", [{"account": row.submitted_by}],
          _titles(form) | _notes(note) | {
              "decision_zh": zh, "decision_en": en, "student_name": _student_name(sess, row), "approver": p.display_name,
              "step": _lang(step["title"], "zh"), "step_en": _lang(step["title"], "en"),
              "next_step": _lang(nxt["title"], "zh"), "next_step_en": _lang(nxt["title"], "en")},
          row, f"lowcode.flow.step_decided:{row.id}:{step['key']}", sender=p.account_id, link=_page(row))


def flow_returned(sess: so.Session, form: LowcodeForm, row: Submission, step: dict, p, note: str | None) -> None:
    """The submitter, whose submission came back for changes: the note, and a button to the edit page."""
    if row.submitted_by is None:
        return
    _send(sess, "lowcode.flow.returned", [{"account": row.submitted_by}],
          _titles(form) | _notes(note) | {"student_name": _student_name(sess, row), "approver": p.display_name,
                                          "step": _lang(step["title"], "zh"), "step_en": _lang(step["title"], "en")},
          row, f"lowcode.flow.returned:{row.id}:{utcnow():%Y%m%d%H%M%S%f}", sender=p.account_id,
          link=f"{_page(row)}/edit")


def flow_finished(sess: so.Session, form: LowcodeForm, row: Submission, flow: dict, outcome: str, p,
                  note: str | None) -> None:
    """The submitter (the decision, from its approver) and the CC roles (抄送) of the outcome."""
    zh, en = DECISIONS[outcome]
    name = _student_name(sess, row)
    if flow.get("notify_submitter", True) and row.submitted_by is not None:
        _send(sess, "lowcode.approval.decided", [{"account": row.submitted_by}],
              _titles(form) | _notes(note) | {"decision_zh": zh, "decision_en": en, "student_name": name,
                                              "approver": p.display_name if p else "—"},
              row, f"lowcode.approval.decided:{row.id}", sender=p.account_id if p else None, link=_page(row))
    if flow.get("cc"):
        _send(sess, "lowcode.flow.cc", [{"role": r, "school": row.school_id} for r in flow["cc"]],
              _titles(form) | {"submitter": _submitter(sess, row), "student_name": name, "decision_zh": zh,
                               "decision_en": en},
              row, f"lowcode.flow.cc:{row.id}", sender=None, link=_page(row))
