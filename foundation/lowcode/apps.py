"""Low-code apps: the parts beside a form (schemas/lowcode-app.schema.json) — who may fill and see it,
views, rules and an approval flow. Checked before publish; applied on every submission."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import Student, Submission
from foundation.permissions import ROLES, Principal

APP_SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "lowcode-app.schema.json").read_text("utf-8"))
_APP_VALIDATOR = jsonschema.Draft202012Validator(APP_SCHEMA)
ORDERED = {"gt", "gte", "lt", "lte"}
NUMERIC = {"integer", "number"}
FOLLOWUP_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,39}\.[A-Za-z0-9_]{1,64}$")  # <follow-up key>.<its field>


def _fields(schema: dict) -> dict[str, dict]:
    return {k: v for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict)}


def student_field(schema: dict) -> str | None:
    """The top-level field bound to the student base library, if any: the submission is about that student."""
    return next((k for k, v in _fields(schema).items() if v.get("x-jizuo-binding") == "student"), None)


def check_app(schema: dict, app: Any, sess: so.Session | None = None,
              school_id: int | None = None) -> dict[str, str]:
    """Problems that stop an app's publish (``path → message key``): the structure against the app schema,
    then fields that do not exist on the form, roles that do not exist, an alert rule with no student, and
    an approval flow that cannot finish (lowcode/flow_check.py; asked of the school when given)."""
    if app in (None, {}):
        return {}
    errors = sorted(_APP_VALIDATOR.iter_errors(app), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        return {"app/" + "/".join(str(p) for p in err.absolute_path): f"lowcode.app_invalid:{err.message[:120]}"}
    fields, problems = _fields(schema), {}

    def field(path: str, name: str | None, numeric: bool = False) -> None:
        if name is None or FOLLOWUP_FIELD.fullmatch(name):  # a follow-up form's field (lowcode/followups.py)
            return
        if name not in fields:
            problems[path] = f"lowcode.rule_unknown_field:{name}"
        elif numeric and fields[name].get("type") not in NUMERIC:
            problems[path] = f"lowcode.field_not_numeric:{name}"

    def role(path: str, name: str) -> None:
        if name not in ROLES:
            problems[path] = f"lowcode.unknown_role:{name}"

    audience = app.get("audience") or {}
    for part in ("fill", "see"):
        for i, r in enumerate(audience.get(part) or []):
            role(f"app/audience/{part}/{i}", r)
    from foundation.lowcode.writes import check as check_writes

    problems.update(check_writes(schema, app, _has_subject(schema, audience)))
    for i, view in enumerate(app.get("views") or []):
        for part in ("columns", "filters"):
            for j, name in enumerate(view.get(part) or []):
                field(f"app/views/{i}/{part}/{j}", name)
        field(f"app/views/{i}/sort/field", (view.get("sort") or {}).get("field"))
        for j, agg in enumerate(view.get("aggregates") or []):
            if agg["op"] != "count" and "field" not in agg:
                problems[f"app/views/{i}/aggregates/{j}/field"] = "lowcode.required"
            field(f"app/views/{i}/aggregates/{j}/field", agg.get("field"), numeric=agg["op"] != "count")
        chart = view.get("chart")
        if chart:
            field(f"app/views/{i}/chart/by", chart["by"])
            field(f"app/views/{i}/chart/field", chart.get("field"), numeric=True)
    keys = set()
    for i, rule in enumerate(app.get("rules") or []):
        if rule["key"] in keys:
            problems[f"app/rules/{i}/key"] = "lowcode.duplicate_key"
        keys.add(rule["key"])
        when = rule["when"]
        field(f"app/rules/{i}/when/field", when["field"], numeric=when["op"] in ORDERED)
        if when["op"] not in ("empty", "not_empty") and "value" not in when:
            problems[f"app/rules/{i}/when/value"] = "lowcode.required"
        if "alert" in rule["then"] and not _has_subject(schema, audience):
            problems[f"app/rules/{i}/then/alert"] = "lowcode.alert_needs_student"
        if "message" in rule["then"]:
            role(f"app/rules/{i}/then/message/to", rule["then"]["message"]["to"])
    if app.get("approval"):
        role("app/approval/by", app["approval"]["by"])
    from foundation.lowcode.flow_check import check_flow

    problems.update(check_flow(app, fields, _has_subject(schema, audience), sess, school_id))
    return problems


def _has_subject(schema: dict, audience: dict) -> bool:
    """An alert is about a student: the form binds a student field, or only students/parents fill it."""
    fill = set(audience.get("fill") or [])
    return student_field(schema) is not None or (bool(fill) and fill <= {"student", "student_cadre", "parent"})


# -- audience ---------------------------------------------------------------------------------------------

def own_class_ids(sess: so.Session, p: Principal) -> set[int]:
    """The classes a person belongs to or teaches: a student's class, a parent's children's classes, a
    class-reach teacher's classes."""
    ids = {c for g in p.grants if ROLES[g.role].reach == "class" for c in g.class_ids}
    students = set(p.children_ids) | ({p.person_id} if p.person_kind == "student" and p.person_id else set())
    if students:
        ids |= {c for c in sess.scalars(sa.select(Student.class_id).where(Student.id.in_(students))) if c}
    return ids


def may_fill(sess: so.Session, p: Principal, app: dict, school_id: int | None) -> bool:
    audience = app.get("audience") or {}
    if audience.get("plugin"):  # filled on that plugin's own page only (a screening scale), never here
        return False
    fill = set(audience.get("fill") or [])
    roles = {g.role for g in p.grants if school_id is None or g.school_id == school_id}
    if fill and not (fill & roles):
        return False
    classes = set(audience.get("classes") or [])
    if classes and not roles & {"school_admin", "district_admin"}:
        return bool(classes & own_class_ids(sess, p))
    return True


def sees_all(p: Principal, app: dict, school_id: int | None) -> tuple[bool, set[int] | None]:
    """(may see submissions beyond their own, limited to these classes or None for the whole school)."""
    see = set((app.get("audience") or {}).get("see") or [])
    classes: set[int] = set()
    whole = False
    for g in p.grants:
        if g.role not in see or (school_id is not None and g.school_id != school_id):
            continue
        if ROLES[g.role].reach == "class":
            classes |= g.class_ids
        elif ROLES[g.role].reach in ("school", "district"):
            whole = True
    if whole:
        return True, None
    return bool(classes), classes


def is_private(app: dict) -> bool:
    """A private app (``audience.private``, e.g. the aid plugin's declaration of a family's situation): its
    submissions are seen by the submitter and the ``see`` roles only — not by the form's owner, nor by those
    who read every form of the school."""
    return bool((app.get("audience") or {}).get("private"))


def visible(stmt: sa.Select, p: Principal, form, app: dict) -> sa.Select:
    """Narrow a select of submissions to what ``p`` may see of ``form``."""
    if not is_private(app) and (form.owner_account_id == p.account_id or
                                p.can("lowcode.submission.read", form.school_id)):
        return stmt
    ok, classes = sees_all(p, app, form.school_id)
    if ok and classes is None:
        return stmt
    own = Submission.submitted_by == p.account_id
    return stmt.where(sa.or_(own, Submission.class_id.in_(classes)) if ok else own)


# -- rules --------------------------------------------------------------------------------------------------

def matches(when: dict, data: dict) -> bool:
    value, op, want = data.get(when["field"]), when["op"], when.get("value")
    if op == "empty":
        return value in (None, "", [])
    if op == "not_empty":
        return value not in (None, "", [])
    if value is None:
        return False
    try:
        return {
            "eq": lambda: value == want, "ne": lambda: value != want,
            "gt": lambda: value > want, "gte": lambda: value >= want,
            "lt": lambda: value < want, "lte": lambda: value <= want,
            "in": lambda: value in (want if isinstance(want, list) else [want]),
            "contains": lambda: want in value if isinstance(value, list | str) else False,
        }[op]()
    except TypeError:  # a rule comparing a number with text: no match, never an error for the submitter
        return False


def fired(app: dict, data: dict) -> list[dict]:
    return [rule for rule in app.get("rules") or [] if matches(rule["when"], data)]
