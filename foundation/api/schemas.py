"""Marshmallow schemas of the API. Error messages are catalogue keys (see foundation/locales)."""
from __future__ import annotations

from datetime import UTC, date, datetime

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from foundation import codes
from foundation.security.fields import id_number_problem, normalise


def _code_in(dictionary: str):
    def check(value: str) -> None:
        if not codes.is_valid(dictionary, value):
            raise ValidationError(f"code.unknown:{dictionary}")

    return check


def _code(dictionary: str, **kw) -> fields.String:
    """A code of a standard dictionary: checked against it, and listed in the OpenAPI document (as an enum)."""
    return fields.String(validate=_code_in(dictionary), metadata={"x-code-dictionary": dictionary}, **kw)


INT_MAX = 2**31 - 1  # ids and counts fit a 32-bit integer column on every backend


def _id(**kw) -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=1, max=INT_MAX, error="field.range:{min}-{max}"), **kw)


def _text(max_len: int, required: bool = False, **kw) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=1, max=max_len, error="field.length:{max}"), **kw)


class UTCDateTime(fields.DateTime):
    """A time as the database keeps it (naive UTC), given out with its zone: ``2026-03-01T00:30:00Z``."""

    def _serialize(self, value: datetime | None, attr, obj, **kw) -> str | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat().replace("+00:00", "Z")


class Strict(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


class PageQuery(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000, error="field.range:{min}-{max}"))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500, error="field.range:{min}-{max}"))


# ---- org -------------------------------------------------------------------------------------------
class OrgUnitOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    parent_id = _id(allow_none=True)
    school_id = _id(allow_none=True)
    stage = fields.String(allow_none=True)
    entry_year = fields.Integer(allow_none=True)
    seq = fields.Integer()
    active = fields.Boolean()


class ClassOut(OrgUnitOut):
    student_count = fields.Integer()
    homeroom_teachers = fields.List(fields.String())


class OrgUnitIn(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(["school", "grade", "class", "department"], error="field.one_of"))
    name = _text(120, required=True)
    name_en = _text(120, allow_none=True)
    code = fields.String(validate=validate.Regexp(r"^[0-9A-Za-z_-]{1,40}$", error="org.code_format"), allow_none=True)
    parent_id = _id(required=True)
    stage = fields.String(validate=validate.OneOf(["kindergarten", "primary", "junior", "senior", "vocational", "nine_year", "complete"], error="field.one_of"), allow_none=True)
    entry_year = fields.Integer(validate=validate.Range(min=1990, max=2100, error="field.range:{min}-{max}"), allow_none=True)
    seq = fields.Integer(load_default=0, validate=validate.Range(min=0, max=9999, error="field.range:{min}-{max}"))
    active = fields.Boolean()


class OrgQuery(PageQuery):
    kind = fields.String(validate=validate.OneOf(["district", "school", "grade", "class", "department"], error="field.one_of"))
    parent_id = _id()
    school_id = _id()


class ClassQuery(PageQuery):
    school_id = _id()
    grade_id = _id()


# ---- students ----------------------------------------------------------------------------------------
class StudentOut(Schema):
    id = fields.Integer()
    school_id = _id()
    student_no = fields.String()
    name = fields.String()
    sex_code = fields.String()
    sex = fields.String()
    ethnicity_code = fields.String()
    ethnicity = fields.String()
    birth_date = fields.Date(allow_none=True)
    id_number_masked = fields.String(allow_none=True)
    class_id = _id(allow_none=True)
    class_name = fields.String(allow_none=True)
    boarding = fields.Boolean()
    status_code = fields.String()


class StudentIn(Strict):
    student_no = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z-]{1,32}$", error="student.no_format"))
    name = _text(60, required=True)
    sex_code = _code("sex", required=True)
    ethnicity_code = _code("ethnicity", required=True)
    birth_date = fields.Date(allow_none=True)
    id_number = fields.String(allow_none=True)
    class_id = _id(required=True)
    boarding = fields.Boolean(load_default=False)
    status_code = _code("student_status", load_default="01")

    @validates("birth_date")
    def _birth(self, value: date | None, **_kw) -> None:
        if value and (value > date.today() or value.year < 1950):
            raise ValidationError("student.birth_date_range")

    @validates("id_number")
    def _id(self, value: str | None, **_kw) -> None:
        if value:
            problem = id_number_problem(value)
            if problem:
                raise ValidationError(problem)

    @validates_schema
    def _id_matches_birth(self, data: dict, **_kw) -> None:
        idn, birth = data.get("id_number"), data.get("birth_date")
        if idn and birth and not id_number_problem(idn) and normalise(idn)[6:14] != birth.strftime("%Y%m%d"):
            raise ValidationError("id_number.birth_mismatch", field_name="id_number")


class StudentQuery(PageQuery):
    class_id = _id()
    grade_id = _id()
    school_id = _id()
    q = fields.String(validate=validate.Length(min=1, max=60, error="field.length:{max}"))
    boarding = fields.Boolean()
    sex_code = _code("sex")


# ---- staff -----------------------------------------------------------------------------------------
class StaffOut(Schema):
    id = fields.Integer()
    school_id = _id()
    staff_no = fields.String()
    name = fields.String()
    sex_code = fields.String()
    title = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    department_id = _id(allow_none=True)
    active = fields.Boolean()


class StaffIn(Strict):
    school_id = _id()
    staff_no = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z-]{1,32}$", error="staff.no_format"))
    name = _text(60, required=True)
    sex_code = _code("sex", required=True)
    title = _text(60, allow_none=True)
    subject = _text(30, allow_none=True)
    department_id = _id(allow_none=True)
    active = fields.Boolean()


class StaffQuery(PageQuery):
    school_id = _id()
    q = fields.String(validate=validate.Length(min=1, max=60, error="field.length:{max}"))
    subject = fields.String()


# ---- guardians -------------------------------------------------------------------------------------
class LinkOut(Schema):
    student_id = _id()
    relation_code = fields.String()
    relation = fields.String()
    is_primary = fields.Boolean()


class GuardianOut(Schema):
    id = fields.Integer()
    name = fields.String()
    phone_masked = fields.String(allow_none=True)
    links = fields.List(fields.Nested(LinkOut))


class LinkIn(Strict):
    student_id = _id(required=True)
    relation_code = _code("family_relation", required=True)
    is_primary = fields.Boolean(load_default=False)


class GuardianIn(Strict):
    name = _text(60, required=True)
    phone = fields.String(validate=validate.Regexp(r"^1[3-9][0-9]{9}$", error="guardian.phone_format"), allow_none=True)
    id_number = fields.String(allow_none=True)
    links = fields.List(fields.Nested(LinkIn), required=True, validate=validate.Length(min=1, error="guardian.links_required"))

    @validates("id_number")
    def _id(self, value: str | None, **_kw) -> None:
        if value:
            problem = id_number_problem(value)
            if problem:
                raise ValidationError(problem)


class GuardianQuery(PageQuery):
    student_id = _id()
    q = fields.String(validate=validate.Length(min=1, max=60, error="field.length:{max}"))


# ---- audit -------------------------------------------------------------------------------------------
class AuditOut(Schema):
    id = fields.Integer()
    at = UTCDateTime()
    account_id = fields.Integer(allow_none=True)
    username = fields.String(allow_none=True)
    action = fields.String()
    resource_type = fields.String(allow_none=True)
    resource_id = fields.String(allow_none=True)
    school_id = _id(allow_none=True)
    endpoint = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    detail = fields.Dict(allow_none=True)


class AuditQuery(PageQuery):
    action = fields.String()
    resource_type = fields.String()
    resource_id = fields.String()
    school_id = _id()
