"""An app's approval flow (the "flow" part of schemas/lowcode-app.schema.json) before publish: what makes a
flow unable to finish is refused, each problem naming the step and the reason in words. (The engine, with
``flow_of`` and the ``path`` a submission takes, is foundation/lowcode/flow.py.)

Refused: two steps with one key; an approver (or a deadline's escalation target) that cannot exist in the
school — a role that is not a staff role or that nobody holds there, a homeroom teacher or grade head of the
student on a form that says no student, a person who is not the school's staff; a condition on a field the
form does not have, with an operator that does not fit the field's type or a value the field cannot take;
CC roles that do not exist or are not staff roles; "approval" and "flow" together; and a flow whose every
step has a condition: a submission meeting none would be approved at once with nobody deciding, so one step
must run always."""
from __future__ import annotations

from typing import Any

import sqlalchemy.orm as so

from foundation.i18n import current_lang
from foundation.lowcode.editor import words
from foundation.permissions import ROLES

# staff roles reach the school or its classes; students, cadres and parents fill forms, never decide them
STAFF_REACH = ("school", "class")
RELATIVE_ROLE = {"homeroom": "homeroom_teacher", "grade_head": "grade_head"}
ORDERED = {"gt", "gte", "lt", "lte"}


def check_flow(app: dict, fields: dict[str, dict], has_student: bool, sess: so.Session | None = None,
               school_id: int | None = None, lang: str | None = None) -> dict[str, str]:
    """Problems of the app's flow (``path → message key``), the app already valid against the app schema;
    ``fields`` are the form's top-level properties, ``has_student`` whether a submission is about a student
    (lowcode/apps.py says both). Who holds what is asked of the school only when ``sess`` and ``school_id``
    are given (a district-level app is checked again in each school that clones it)."""
    flow = app.get("flow")
    if not flow:
        return {}
    lang = lang or current_lang()
    problems: dict[str, str] = {}
    if app.get("approval"):
        problems["app/approval"] = "lowcode.flow.both"
    staff = _school_staff(sess, school_id) if sess is not None and school_id is not None else None
    seen: set[str] = set()
    for i, step in enumerate(flow["steps"]):
        where, name = f"app/flow/steps/{i}", _step_name(step, i, lang)
        if step["key"] in seen:
            problems[f"{where}/key"] = _say("lowcode.flow.duplicate_key", *name, step["key"])
        seen.add(step["key"])
        for part, who in (("approver", step["approver"]), ("escalate_to", (step.get("deadline") or {}).get("escalate_to"))):
            if who is None:
                continue
            reason = _approver_problem(who, has_student, staff, lang)
            if reason:
                at = f"{where}/approver" if part == "approver" else f"{where}/deadline/escalate_to"
                problems[at] = _say(f"lowcode.flow.{part}.{reason[0]}", *name, *reason[1:])
        if "when" in step:
            reason = _when_problem(step["when"], fields, lang)
            if reason:
                problems[f"{where}/when/{reason[0]}"] = _say(f"lowcode.flow.when_{reason[1]}", *name, *reason[2:])
    if all("when" in step for step in flow["steps"]):
        problems["app/flow/steps"] = "lowcode.flow.all_conditional"
    for i, role in enumerate(flow.get("cc") or []):
        if role not in ROLES:
            problems[f"app/flow/cc/{i}"] = f"lowcode.flow.cc_unknown:{role}"
        elif ROLES[role].reach not in STAFF_REACH:
            problems[f"app/flow/cc/{i}"] = f"lowcode.flow.cc_not_staff:{getattr(ROLES[role], lang)}"
    return problems


def _say(key: str, *args: Any) -> str:
    """A message key with its arguments, ``key:a|b|c`` (the catalogue's text names them ``{args[0]}``…)."""
    return f"{key}:" + "|".join(str(a).replace("|", "/") for a in args)


def _step_name(step: dict, i: int, lang: str) -> tuple[int, str]:
    """A step as people name it: its number and its title (its key if it has none)."""
    title = step.get("title") or {}
    return i + 1, title.get(lang) or title.get("zh") or title.get("en") or step["key"]


def _school_staff(sess: so.Session, school_id: int) -> dict[int, set[str]]:
    """The school's active staff accounts with the roles each holds there."""
    from foundation.people_access import staff_of

    return {s["account_id"]: {r["role"] for r in s["roles"]} for s in staff_of(sess, school_id)}


def _approver_problem(who: dict, has_student: bool, staff: dict[int, set[str]] | None,
                      lang: str) -> tuple[str, ...] | None:
    """Why this approver cannot exist in the school (a reason and its words), or None."""
    if "relative" in who:
        role = RELATIVE_ROLE[who["relative"]]
        if not has_student:
            return ("no_student", getattr(ROLES[role], lang))
    elif "role" in who:
        role = who["role"]
        if role not in ROLES:
            return ("unknown_role", role)
        if ROLES[role].reach not in STAFF_REACH:
            return ("not_staff", getattr(ROLES[role], lang))
    else:
        if staff is not None and who["person"] not in staff:
            return ("not_staff_person", who["person"])
        return None
    if staff is not None and not any(role in held for held in staff.values()):
        return ("nobody", getattr(ROLES[role], lang))
    return None


def _when_problem(when: dict, fields: dict[str, dict], lang: str) -> tuple[str, ...] | None:
    """Why a step's condition cannot be decided on this form: (where under "when", reason, words…), or None."""
    name, op = when["field"], when["op"]
    if name not in fields:
        return ("field", "unknown_field", name)
    prop = fields[name]
    label = words(prop, lang) or name
    kind, options = prop.get("type"), _option_values(prop)
    is_date = kind == "string" and prop.get("format") == "date"
    if op in ORDERED and kind not in ("integer", "number") and not is_date:
        return ("op", "op_type", label)
    if op == "contains" and (kind not in ("string", "array") or options is not None):
        return ("op", "op_text", label)
    if op in ("empty", "not_empty"):
        return None
    if "value" not in when or when["value"] in (None, ""):
        return ("value", "value_missing", label)
    values = when["value"] if op == "in" and isinstance(when["value"], list) else [when["value"]]
    for value in values:
        if not _fits(value, prop, kind, options, is_date, op):
            return ("value", "value_type", label, value)
    return None


def _option_values(prop: dict) -> list | None:
    if isinstance(prop.get("oneOf"), list):
        return [o.get("const") for o in prop["oneOf"] if isinstance(o, dict)]
    return prop["enum"] if isinstance(prop.get("enum"), list) else None


def _fits(value: Any, prop: dict, kind: Any, options: list | None, is_date: bool, op: str) -> bool:
    """Whether the field can ever hold ``value`` (so the comparison can come out either way)."""
    if kind in ("integer", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if options is not None:
        return value in options
    if is_date:
        from datetime import date

        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return False
        return True
    if kind == "string":
        return isinstance(value, str)
    return True
