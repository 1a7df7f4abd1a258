"""Plugins' flows on the platform's engine (``plugin_api.start_flow``): a plugin names a flow by key (the aid
plugin's ``aid.grant``: homeroom → aid_officer → principal), starts it for a school with its own data and
the student it is about, and watches ``lowcode.flow.finished`` for ``template_key == "flow:<key>"``. The flow
lives on a school-level form of its own (no fields to fill, listed nowhere), so its submissions have the
same queue, messages, deadlines, deputies and timeline as any app's."""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.lowcode.apps import check_app
from foundation.models import FormVersion, LowcodeForm, Student, Submission

KEY = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]{0,60}$")
SCHEMA = {"type": "object"}


class FlowError(ValueError):
    """The plugin's flow is malformed (a programming error in the plugin)."""


def _form(sess: so.Session, key: str, app: dict, title: dict, school_id: int) -> tuple[LowcodeForm, FormVersion]:
    tag = f"flow:{key}"
    form = sess.scalar(sa.select(LowcodeForm).where(LowcodeForm.template_key == tag, LowcodeForm.school_id == school_id))
    if form is None:
        form = LowcodeForm(title=title, draft_schema=SCHEMA, draft_ui={}, draft_app=app, template_key=tag,
                           school_id=school_id)
        sess.add(form)
        sess.flush()
    version = sess.scalar(sa.select(FormVersion).where(FormVersion.form_id == form.id)
                          .order_by(FormVersion.version.desc()).limit(1))
    if version is None or version.app != app or form.title != title:
        form.title, form.draft_app = title, app
        version = FormVersion(form_id=form.id, version=(version.version if version else 0) + 1, schema=SCHEMA,
                              ui_schema={}, app=app)
        sess.add(version)
        sess.flush()
    return form, version


def start_flow(sess: so.Session, key: str, flow: dict, *, school_id: int, title: dict[str, str],
               data: dict[str, Any] | None = None, student_id: int | None = None,
               submitted_by: int | None = None, private: bool = False) -> Submission:
    """Start ``flow`` (the app document's "flow" shape) for ``school_id``: ``key`` "<plugin>.<name>", ``title``
    {zh, en} shown in 待我审批, ``data`` the plugin's own (kept with the submission and given back in the
    outcome events), ``student_id`` the student it is about (their homeroom teacher and grade head are the
    relative approvers), ``submitted_by`` the account asking (never its own approver); ``private``: only the
    submitter and the approvers see the submission (not the school's readers of every form: an aid grant).
    Returns the submission (its ``id`` and ``status``; ``flow.state`` says where it waits)."""
    from foundation.lowcode import flow as engine

    if not isinstance(key, str) or not KEY.match(key):
        raise FlowError(f"flow key {key!r}: <plugin>.<name>, lower case")
    fields = {k: {"type": "integer" if isinstance(v, int) and not isinstance(v, bool) else
                  "number" if isinstance(v, float) else "string"} for k, v in (data or {}).items()}
    # the student is given with each start, so relative approvers (homeroom, grade head) may be named
    fields["student"] = {"type": "string", "x-jizuo-binding": "student"}
    app = {"flow": flow, **({"audience": {"private": True}} if private else {})}
    problems = check_app({"type": "object", "properties": fields}, app, sess, school_id)
    if problems:
        raise FlowError(f"flow {key}: {problems}")
    form, version = _form(sess, key, app, title, school_id)
    class_id = sess.scalar(sa.select(Student.class_id).where(Student.id == student_id)) if student_id else None
    row = Submission(form_id=form.id, version_id=version.id, school_id=school_id, submitted_by=submitted_by,
                     data=dict(data or {}), student_id=student_id, class_id=class_id, status="submitted",
                     created_at=utcnow())
    sess.add(row)
    sess.flush()
    engine.start(sess, row)
    sess.flush()
    return row
