"""The request bodies of the writes that read their JSON field by field (their checks are richer than a
schema: reach, state, the rulebook in force), as the OpenAPI document shows them. Routes name them by class
name (``@doc(body="ReasonIn")``); ``tests/contract`` sends bodies generated from them."""
from __future__ import annotations

from marshmallow import fields, validate

from foundation.api.schemas import Strict, _id, _text


class ReasonIn(Strict):
    reason = _text(200, required=True, metadata={"description": "why: kept in the audit log"})


class OptionalReasonIn(Strict):
    reason = _text(200)


class BindingCodeIn(Strict):
    student_id = _id(required=True)


class DecisionIn(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]))
    note = _text(300, allow_none=True)


class SquareSubmitIn(Strict):
    description = fields.String(validate=validate.Length(max=300))


class Title(Strict):
    zh = _text(120, required=True)
    en = _text(120, required=True)


class FormIn(Strict):
    title = fields.Nested(Title, required=True)
    schema = fields.Dict(required=True, metadata={"description": "a JSON Schema (object) of the form's fields"})
    ui_schema = fields.Dict()
    app = fields.Dict(metadata={"description": "audience, views, rules, approval (schemas/lowcode-app.schema.json)"})
    main_form_id = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                                  metadata={"description": "make it a follow-up form of this app (its owner's)"})
    followup_key = fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$"),
                                 metadata={"description": "the follow-up's key in the app (views name its fields key.field)"})


class FormDraftIn(Strict):
    title = fields.Nested(Title)
    schema = fields.Dict()
    ui_schema = fields.Dict()
    app = fields.Dict()
    fields_ = fields.List(fields.Dict(), data_key="fields",
                          metadata={"description": "the editor's fields (instead of `schema`)"})
    description = fields.String(allow_none=True)
    deadline = fields.String(allow_none=True, metadata={"description": "a local date, YYYY-MM-DD"})


class CloneIn(Strict):
    title = fields.Nested(Title)


class SubmissionIn(Strict):
    data = fields.Dict(required=True, metadata={"description": "the answers, as the form's JSON Schema says"})
    parent_id = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                               metadata={"description": "a follow-up form's: the main submission it follows up"})


class SourceIn(Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z_]{2,40}$"))
    name = _text(120, required=True)
    client_id = fields.String(allow_none=True)
    libraries = fields.List(fields.String())


class AuthorityIn(Strict):
    source = fields.String(required=True, metadata={"description": "a registered source's code"})


class ArchiveIn(Strict):
    archived = fields.Boolean(load_default=True)


class ReplyIn(Strict):
    body = _text(5000, required=True)


class ChannelChange(Strict):
    type = fields.String(required=True)
    channel = fields.String(required=True)
    enabled = fields.Boolean(required=True)


class PreferencesIn(Strict):
    changes = fields.List(fields.Nested(ChannelChange))
    email = fields.Email(allow_none=True)


class Audience(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(["class", "student", "school", "district"]))
    class_id = _id()
    student_id = _id()
    school_id = _id()
    role = fields.String()
    target = fields.String(validate=validate.OneOf(["parents", "students", "both"]))


class NoticeIn(Strict):
    subject = _text(120, required=True)
    body = _text(5000, required=True)
    audience = fields.Nested(Audience, required=True)
    urgent = fields.Boolean()
    ack = fields.Boolean(metadata={"description": "recipients confirm it (确认收到)"})
    client_token = fields.String(validate=validate.Length(max=64),
                                 metadata={"description": "the same token twice sends one notice"})


class PluginConfigIn(Strict):
    config = fields.Dict(required=True, metadata={"description": "checked against the plugin's config_schema"})


class PluginInstallIn(Strict):
    config = fields.Dict()


class IngestIn(Strict):
    records = fields.List(fields.Dict(), required=True,
                          metadata={"description": "records of the library (or send text/csv)"})


class IotIn(Strict):
    payloads = fields.List(fields.Dict(), required=True)
