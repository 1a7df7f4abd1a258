"""Low-code forms and apps: a draft that its owner edits, immutable published versions, and submissions
that keep the version they were made with. Clones record their lineage. An app is a form plus its app
parts (views, rules, audience, approval — schemas/lowcode-app.schema.json), versioned with the form."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import Base, utcnow
from foundation.models.base import SchoolScoped
from foundation.tenancy import one_of

if TYPE_CHECKING:
    from foundation.tenancy import Scope


class LowcodeForm(SchoolScoped, Base):
    __tablename__ = "lowcode_forms"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    draft_schema: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    draft_ui: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    draft_app: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict, server_default=sa.text("'{}'"))
    owner_account_id: so.Mapped[int | None] = so.mapped_column()
    parent_form_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("lowcode_forms.id"))
    parent_version: so.Mapped[int | None] = so.mapped_column()
    template_key: so.Mapped[str | None] = so.mapped_column(sa.String(80))  # cloned from a plugin's template
    # a follow-up form belongs to an app (its main form), named there by its key (a return-to-school report)
    main_form_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("lowcode_forms.id", ondelete="CASCADE"),
                                                           index=True)
    followup_key: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime | None] = so.mapped_column()

    @classmethod
    def tenant_criteria(cls, scope: Scope) -> sa.ColumnElement[bool]:
        # district-level forms (no school) are visible to everyone in the district, for cloning
        return sa.or_(one_of(cls.school_id, scope.school_ids), cls.school_id.is_(None))


class FormVersion(Base):
    __tablename__ = "lowcode_form_versions"
    __table_args__ = (sa.UniqueConstraint("form_id", "version", name="uq_lowcode_form_versions_n"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    form_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("lowcode_forms.id", ondelete="CASCADE"), index=True)
    version: so.Mapped[int] = so.mapped_column()
    schema: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    ui_schema: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    app: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict, server_default=sa.text("'{}'"))
    published_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    published_by: so.Mapped[int | None] = so.mapped_column()


class Submission(SchoolScoped, Base):
    __tablename__ = "lowcode_submissions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    form_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("lowcode_forms.id", ondelete="CASCADE"), index=True)
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("lowcode_form_versions.id"))
    submitted_by: so.Mapped[int | None] = so.mapped_column()
    data: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    # the student the submission is about (a bound student field, the submitting student, a parent's child)
    student_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("students.id"), index=True)
    class_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_units.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="submitted", server_default="submitted")  # submitted|pending|returned|approved|rejected|withdrawn
    effects: so.Mapped[list[Any] | None] = so.mapped_column(sa.JSON, default=list)  # rules that fired: alerts, messages
    # a follow-up form's submission: the main submission it follows up (the same case)
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("lowcode_submissions.id", ondelete="CASCADE"),
                                                        index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # its place in the app's approval flow (foundation/lowcode/flow.py): the step it waits at, since when,
    # and whether that step's approvers were reminded and it was escalated
    flow_step: so.Mapped[int | None] = so.mapped_column()
    step_started_at: so.Mapped[datetime | None] = so.mapped_column()
    step_reminded_at: so.Mapped[datetime | None] = so.mapped_column()
    step_escalated_at: so.Mapped[datetime | None] = so.mapped_column()


class Approval(SchoolScoped, Base):
    """A decision in an app's approval flow (e.g. the homeroom teacher approves a leave request)."""

    __tablename__ = "lowcode_approvals"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("lowcode_submissions.id", ondelete="CASCADE"),
                                                     index=True)
    decision: so.Mapped[str] = so.mapped_column(sa.String(10))  # approved | rejected
    note: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    by_account: so.Mapped[int | None] = so.mapped_column()
    by_name: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
