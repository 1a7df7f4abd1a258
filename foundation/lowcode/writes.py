"""Apps that write standard data (the app document's ``writes``): each submission becomes a record of a
business library through the ingest path (validated against the library, idempotent, change feed, events,
the authority rules of one datum, one source). The app is a registered data source (``lowcode_app_<id>``,
made at publish) and the submission id is the record's source id. The record is written when the
submission is approved (apps with an approval or a flow) or when it is submitted (apps without);
withdrawing the submission tombstones it."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.models import Change, DataSource, LowcodeForm, Record, Student, Submission
from foundation.tenancy import unscoped

# the app writes into its submission's school only, which the submitter was checked to belong to
WRITES = unscoped("an app's records are written, found and tombstoned in its submission's school")
SUBJECTS = {"student", "school"}  # what a library's record may be about, for an app to write it
# element type → the form fields that may fill it: (JSON types, formats or None for any, binding)
FITS: dict[str, tuple[set[str], set[str] | None, str | None]] = {
    "string": ({"string", "integer", "number"}, None, None), "text": ({"string"}, None, None),
    "integer": ({"integer"}, None, None), "decimal": ({"integer", "number"}, None, None),
    "boolean": ({"boolean"}, None, None), "date": ({"string"}, {"date"}, None),
    "datetime": ({"string"}, {"date", "date-time"}, None), "code": ({"string", "integer"}, None, None),
    "codes": ({"array"}, None, None), "strings": ({"array"}, None, None),
    "student": ({"string"}, None, "student"), "staff": ({"string"}, None, "staff"), "class": ({"string"}, None, "class"),
}


def source_code(form_id: int) -> str:
    return f"lowcode_app_{form_id}"


def mode(app: dict) -> str | None:
    """When the app's records are written: ``approved``, ``submitted`` or None (the app writes nothing)."""
    writes = app.get("writes")
    if not writes:
        return None
    return writes.get("when") or ("approved" if app.get("approval") or app.get("flow") else "submitted")


def _library(library_id: str):
    from foundation.ingest.service import UnknownLibrary, compiled

    try:
        return compiled(library_id)
    except UnknownLibrary:
        return None


def _options(prop: dict) -> list | None:
    """The values a field offers (enum, or the consts of oneOf/anyOf); None for free input."""
    if isinstance(prop.get("enum"), list):
        return prop["enum"]
    choices = prop.get("oneOf") or prop.get("anyOf")
    if isinstance(choices, list) and choices and all(isinstance(c, dict) and "const" in c for c in choices):
        return [c["const"] for c in choices]
    return None


def _type(prop: dict) -> str | None:
    t = prop.get("type")
    if t is None and _options(prop):
        values = _options(prop)
        t = "string" if all(isinstance(v, str) for v in values) else None
    return t if isinstance(t, str) else None


def check(schema: dict, app: dict, has_subject: bool) -> dict[str, str]:
    """Problems of the ``writes`` part (``path → message key``): an unknown library or element, a required
    element left unmapped or filled by an optional field, a field whose type or options do not fit the
    element (a text into an integer, options that are not codes of the element's code table), a constant
    the library refuses, a student library on a form with no student, "approved" with no approval."""
    writes = app.get("writes")
    if not writes:
        return {}
    lib = _library(writes["library"])
    if lib is None:
        return {"app/writes/library": f"lowcode.writes_unknown_library:{writes['library']}"}
    from foundation.standards import catalog

    dictionaries = catalog().dictionaries
    elements, problems = lib.library["elements"], {}
    subject = lib.library.get("subject")
    if subject not in SUBJECTS:
        problems["app/writes/library"] = f"lowcode.writes_subject:{lib.id}"
    elif subject == "student" and not has_subject:
        problems["app/writes/library"] = f"lowcode.writes_needs_student:{lib.id}"
    if writes.get("when") == "approved" and not (app.get("approval") or app.get("flow")):
        problems["app/writes/when"] = "lowcode.writes_when_approved"
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    mapping = writes["fields"]
    for name, el in elements.items():
        if el.get("required") and name not in mapping:
            problems[f"app/writes/fields/{name}"] = f"lowcode.writes_required:{name}"
    for name, source in mapping.items():
        path = f"app/writes/fields/{name}"
        el = elements.get(name)
        if el is None:
            problems[path] = f"lowcode.writes_unknown_element:{name}|{lib.id}"
        elif isinstance(source, dict):
            _, errors = lib.validate({name: source["const"]})
            if name in errors:
                problems[path] = f"lowcode.writes_const:{name}|{source['const']}"
        elif source not in props or not isinstance(props[source], dict):
            problems[path] = f"lowcode.rule_unknown_field:{source}"
        else:
            problem = _fit(name, el, source, props[source], dictionaries)
            if problem is None and el.get("required") and source not in required:
                problem = f"lowcode.writes_field_optional:{name}|{source}"
            if problem:
                problems[path] = problem
    return problems


def _fit(name: str, el: dict, field: str, prop: dict, dictionaries: dict) -> str | None:
    types, formats, binding = FITS[el["type"]]
    kind = _type(prop)
    if kind not in types or (formats is not None and prop.get("format") not in formats) \
            or prop.get("x-jizuo-binding") != binding:
        return f"lowcode.writes_type.{el['type']}:{name}|{field}"
    if el["type"] in ("code", "codes"):
        options = _options(prop if el["type"] == "code" else (prop.get("items") or {}))
        if not options:
            return f"lowcode.writes_type.{el['type']}:{name}|{field}"
        codes = {c["code"] for c in dictionaries[el["dictionary"]]["codes"]}
        for value in options:
            if str(value) not in codes:
                return f"lowcode.writes_code_unknown:{name}|{field}|{value}"
    return None


def may_publish(p, app: dict, school_id: int | None) -> dict[str, str]:
    """Only someone who may write the library's records in the school may publish an app writing them."""
    writes = app.get("writes") if isinstance(app, dict) else None
    if not isinstance(writes, dict) or not isinstance(writes.get("library"), str) or school_id is None:
        return {}
    if p.can(f"records.{writes['library']}.write", school_id):
        return {}
    return {"app/writes/library": f"lowcode.writes_forbidden:{writes['library']}"}


def register_source(sess: so.Session, form: LowcodeForm, app: dict) -> None:
    """At publish: the app becomes (or stays) a registered data source for its library."""
    writes = app.get("writes")
    if not writes:
        return
    code = source_code(form.id)
    row = sess.scalar(sa.select(DataSource).where(DataSource.code == code))
    name = f"应用：{(form.title or {}).get('zh') or code}"[:120]
    if row is None:
        sess.add(DataSource(code=code, name=name, libraries=[writes["library"]]))
    else:
        row.name = name
        if writes["library"] not in (row.libraries or []):
            row.libraries = [*(row.libraries or []), writes["library"]]
    sess.flush()


def _record(sess: so.Session, app: dict, row: Submission) -> dict[str, Any]:
    writes = app["writes"]
    raw: dict[str, Any] = {"source_id": str(row.id)}
    for name, source in writes["fields"].items():
        value = source["const"] if isinstance(source, dict) else (row.data or {}).get(source)
        if value not in (None, ""):
            raw[name] = value
    if row.student_id is not None:
        raw["student"] = sess.scalar(sa.select(Student.student_no).where(Student.id == row.student_id,
                                                                   Student.school_id == row.school_id),
                                     execution_options=WRITES)
    return raw


def field_errors(app: dict, data: dict) -> dict[str, str]:
    """At submit: what the library would refuse in these answers, named by the form field (the record is
    written later, at approval, and must not fail then)."""
    writes = app.get("writes")
    lib = _library(writes["library"]) if writes else None
    if lib is None:
        return {}
    raw = {name: data.get(src) for name, src in writes["fields"].items() if isinstance(src, str)}
    _, errors = lib.validate({**raw, **{n: s["const"] for n, s in writes["fields"].items() if isinstance(s, dict)}})
    return {writes["fields"][name]: key for name, key in errors.items() if isinstance(writes["fields"].get(name), str)}


def write(sess: so.Session, app: dict, row: Submission) -> int | None:
    """The submission as a record of the app's library, through ingest; returns the record id (None when
    the app writes nothing). A record the library refuses fails the caller's request, naming the field."""
    from foundation.errors import ValidationFailed
    from foundation.ingest.service import Context, ingest

    writes = app.get("writes")
    if not writes:
        return None
    report = ingest(sess, writes["library"], [_record(sess, app, row)], source=source_code(row.form_id),
                    ctx=Context(school_ids={row.school_id}, default_school_id=row.school_id), chunk=1)
    if report.rejected:
        fields = {writes["fields"].get(k) if isinstance(writes["fields"].get(k), str) else f"writes/{k}": [v]
                  for k, v in report.rejected[0]["fields"].items()}
        raise ValidationFailed(fields)
    return report.ids[0] if report.ids else None


def tombstone(sess: so.Session, app: dict, row: Submission) -> bool:
    """The submission was withdrawn or deleted: its record leaves a tombstone in the change feed."""
    writes = app.get("writes")
    if not writes:
        return False
    rec = sess.scalar(sa.select(Record).where(Record.library == writes["library"], Record.source == source_code(row.form_id),
                                              Record.source_id == str(row.id), Record.deleted_at.is_(None),
                                              Record.school_id == row.school_id),
                      execution_options=WRITES)
    if rec is None:
        return False
    rec.deleted_at = utcnow()
    sess.add(Change(library=rec.library, entity_id=rec.id, op="delete", school_id=rec.school_id))
    sess.flush()
    return True


def on_flow_finished(_event: str, payloads: list[dict]) -> None:
    """``lowcode.flow.finished`` (foundation/lowcode/flow.py): an approved submission of an app that writes
    when approved becomes its record; a rejected or withdrawn one's record (written at submit) is
    tombstoned. The one path by which a decision reaches standard data."""
    from foundation import db
    from foundation.models import FormVersion

    sess = db.session()
    for p in payloads:
        row = sess.scalar(sa.select(Submission).where(Submission.id == p.get("submission_id")), execution_options=WRITES)
        app = sess.scalar(sa.select(FormVersion.app).where(FormVersion.id == row.version_id)) if row else None
        if not app or not mode(app):
            continue
        if p.get("outcome") == "approved" and mode(app) == "approved":
            write(sess, app, row)
        elif p.get("outcome") in ("rejected", "withdrawn"):
            tombstone(sess, app, row)


def _subscribe() -> None:
    from foundation import events

    events.subscribe("lowcode.flow.finished", on_flow_finished)


_subscribe()  # once per process, when the low-code layer is first imported
