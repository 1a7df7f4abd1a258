"""The answers of the routes that build their JSON by hand, as the OpenAPI document shows them (routes name
them by class name: ``@doc(response="UnreadOut")``). Like every answer's schema they allow no field they do
not name, so ``tests/contract`` fails when a route starts giving out something undocumented."""
from __future__ import annotations

from marshmallow import Schema, fields

T = fields.DateTime  # a time as the API gives it: ISO 8601 in UTC with its zone


# ---- alerts: a school's settings and calendar ----------------------------------------------------------
class AlertSettingsOut(Schema):
    school_id = fields.Integer()
    deadlines = fields.Dict(metadata={"description": "per level (red, yellow): hours or school days per step"})
    chain = fields.List(fields.String(), metadata={"description": "roles a case escalates to, in order"})
    weekdays = fields.List(fields.Integer(), metadata={"description": "school days, 1 = Monday"})
    timezone = fields.String()


class CalendarDayOut(Schema):
    day = fields.Date()
    kind = fields.String()
    name = fields.String(allow_none=True)


class CalendarOut(Schema):
    school_id = fields.Integer()
    weekdays = fields.List(fields.Integer())
    items = fields.List(fields.Nested(CalendarDayOut))
    total = fields.Integer()


class DayClearedOut(Schema):
    day = fields.Date()
    deleted = fields.Boolean()


# ---- messages: one's inbox ---------------------------------------------------------------------------
class UnreadOut(Schema):
    unread = fields.Integer()


class ReadOut(Schema):
    id = fields.Integer()
    read_at = T()
    unread = fields.Integer()


class AckOut(ReadOut):
    message_id = fields.Integer()
    acked_at = T()


class ReadAllOut(Schema):
    marked = fields.Integer()
    unread = fields.Integer()


class ArchivedOut(Schema):
    id = fields.Integer()
    archived = fields.Boolean()
    unread = fields.Integer()


class SentOut(Schema):
    message_id = fields.Integer()
    recipients = fields.Integer()


class NoticeSentOut(SentOut):
    reach = fields.Raw(allow_none=True, metadata={"description": "how far it went: accounts, students, families"})
    ack_required = fields.Boolean()


class RemindedOut(SentOut):
    reminder_id = fields.Integer()
    reminded_at = T(allow_none=True)


class ReplayedOut(Schema):
    replayed = fields.Integer()


# ---- sign-in links and parents' binding codes ------------------------------------------------------------
class BindingCodeOut(Schema):
    code = fields.String()
    expires_in_days = fields.Integer()


class IdentityOut(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    issuer = fields.String()
    linked_by = fields.String(allow_none=True)
    created_at = T()
    last_login_at = T(allow_none=True)


# ---- data governance and the open data API ---------------------------------------------------------------
class SourceOut(Schema):
    code = fields.String()
    name = fields.String()
    client_id = fields.String(allow_none=True)
    libraries = fields.List(fields.String())


class AuthorityOut(Schema):
    library = fields.String()
    element = fields.String()
    source = fields.String()


class ConflictOut(Schema):
    id = fields.Integer()
    library = fields.String()
    entity = fields.String()
    entity_id = fields.Integer()
    element = fields.String()
    current = fields.Raw(allow_none=True)
    proposed = fields.Raw(allow_none=True, metadata={"description": "an ID number only masked"})
    source = fields.String()
    status = fields.String()
    school_id = fields.Integer(allow_none=True)
    created_at = T()
    reason = fields.String(allow_none=True)


class Subject(Schema):
    kind = fields.String(allow_none=True)
    id = fields.Integer(allow_none=True)


class RecordOut(Schema):
    id = fields.Integer()
    library = fields.String()
    version = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    source_id = fields.String(allow_none=True)
    school_id = fields.Integer(allow_none=True)
    subject = fields.Nested(Subject)
    occurred_at = T(allow_none=True)
    data = fields.Dict()


class ChangeOut(Schema):
    seq = fields.Integer()
    library = fields.String()
    id = fields.Integer()
    op = fields.String()
    school_id = fields.Integer(allow_none=True)
    at = T()


class ChangesOut(Schema):
    items = fields.List(fields.Nested(ChangeOut))
    next = fields.String(metadata={"description": "the cursor to ask with next (`since`)"})
    more = fields.Boolean()


# ---- plugins ----------------------------------------------------------------------------------------------
class PluginStepOut(Schema):
    action = fields.String()
    at = T()
    by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    purge = fields.Boolean(allow_none=True)


class PluginHistoryOut(Schema):
    items = fields.List(fields.Nested(PluginStepOut))
