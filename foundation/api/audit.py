"""Reading the audit log (school admins: their school; district admins: the district), in words: each entry
with its action and resource named in the reader's language (``foundation.audit.describe``); filters by kind
of action, person, date range and resource; reading it is itself recorded."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import jsonify
from marshmallow import fields, validate

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import load_query, paginate, principal
from foundation.api.org import filters_or_404
from foundation.api.schemas import AuditOut, AuditQuery
from foundation.audit import LOCAL, describe, record
from foundation.errors import ValidationFailed
from foundation.i18n import current_lang
from foundation.models import Account, AuditEntry
from foundation.permissions import Principal, require


class AuditFilter(AuditQuery):
    kind = fields.String(validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]+)*$", error="field.one_of"))
    who = fields.String(validate=validate.Length(min=1, max=64, error="field.length:{max}"))
    since = fields.Date(error_messages={"invalid": "field.invalid_date"})
    until = fields.Date(error_messages={"invalid": "field.invalid_date"})


class AuditWordsOut(AuditOut):
    action_text = fields.String()
    area = fields.String()
    area_text = fields.String()
    resource_text = fields.String(allow_none=True)
    who = fields.String()
    school_text = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


WORDS = ("action_text", "area", "area_text", "resource_text", "who", "school_text", "reason")


def _utc(day, end: bool = False) -> datetime:
    """The start (or the end) of a local calendar day, as the log stores time (naive UTC)."""
    start = datetime.combine(day, time.min, tzinfo=LOCAL) + (timedelta(days=1) if end else timedelta())
    return start.astimezone(UTC).replace(tzinfo=None)


def schools_read(p: Principal) -> list[int] | None:
    """The schools whose entries the reader may read; None for the district (every entry)."""
    return None if p.is_district else [s for s in p.school_ids() if p.can("audit.read", s)]


def audit_query(p: Principal, args: dict[str, Any]) -> sa.Select:
    """The entries ``p`` may read that match the filters, newest first. The audit log is not a school's table
    (some entries belong to no school): the reader's schools are applied here, the one place that reads it."""
    require(p, "audit.read")
    filters_or_404(args)
    if "since" in args and "until" in args and args["until"] < args["since"]:
        raise ValidationFailed({"until": ["audit.range"]})
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if (schools := schools_read(p)) is not None:
        stmt = stmt.where(AuditEntry.school_id.in_(schools))
    for key in ("action", "resource_type", "resource_id", "school_id"):
        if key in args:
            stmt = stmt.where(getattr(AuditEntry, key) == args[key])
    if kind := args.get("kind"):
        stmt = stmt.where(sa.or_(AuditEntry.action == kind, AuditEntry.action.startswith(kind + ".", autoescape=True)))
    if who := args.get("who", "").strip():
        ids = sa.select(Account.id).where(sa.or_(Account.username == who, Account.display_name == who))
        stmt = stmt.where(sa.or_(AuditEntry.username == who, AuditEntry.account_id.in_(ids)))
    if "since" in args:
        stmt = stmt.where(AuditEntry.at >= _utc(args["since"]))
    if "until" in args:
        stmt = stmt.where(AuditEntry.at < _utc(args["until"], end=True))
    return stmt


def note_reading(p: Principal, args: dict[str, Any]) -> None:
    """Reading the log is a sensitive read too (names, addresses): recorded, with the filters used."""
    schools = schools_read(p)
    filters = {k: str(v) for k, v in args.items() if k not in ("page", "per_page")}
    record("audit.read", "audit_log", None, school_id=schools[0] if schools and len(schools) == 1 else None,
           detail={"filters": filters} if filters else None)


@bp.get("/audit")
@doc("Audit log entries, newest first, with the action and resource in words (the reader's language); "
     "filters: kind (an area such as `people`, or an action), who (username or name), since/until (local dates)",
     tags=["audit"], query=AuditFilter, response=AuditWordsOut, many=True)
def list_audit():
    args = load_query(AuditFilter())
    p = principal()
    stmt = audit_query(p, args)
    lang = current_lang()

    def dump(rows: list[AuditEntry]) -> list[dict]:
        return [AuditOut().dump(row) | {k: said[k] for k in WORDS} for row, said in zip(rows, describe(rows, lang),
                                                                                     strict=True)]

    page = paginate(stmt, args, dump)
    note_reading(p, args)
    db.session().flush()
    return jsonify(page)
