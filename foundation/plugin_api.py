"""The public plugin API: everything a plugin (first-party or a vendor's) may import from the foundation.
Anything not re-exported here is internal and may change without notice. docs/plugins.md walks through it.

Safe by construction: every query a plugin makes is scoped to the schools (and classes, families) its
caller reaches; code the platform runs for a school (event subscribers, jobs, alert scans, demo data)
sees that school only; a plugin has no bypass of either.
"""
from __future__ import annotations

from foundation.alerts import trigger as raise_alert
from foundation.alerts import trigger_many as raise_alerts
from foundation.api.openapi import doc as api_doc
from foundation.api.search import student_picker
from foundation.audit import record as audit
from foundation.db import session, utcnow
from foundation.district_views import district_view
from foundation.errors import APIError, NotFound, ValidationFailed
from foundation.events import publish, subscribe
from foundation.hookspecs import hookimpl
from foundation.i18n import add_messages, current_lang, load_catalogue, t
from foundation.inputs import json_body, text_field
from foundation.lowcode.flow import state as flow_state
from foundation.lowcode.flow import timeline as flow_timeline
from foundation.lowcode.flow_plugins import FlowError, start_flow
from foundation.lowcode.locks import template_form, template_forms
from foundation.messaging import register_type as register_message_type
from foundation.messaging import send as send_message
from foundation.messaging import send_messages
from foundation.models import OrgUnit, Student  # read-only for plugins: the roster their data hangs on
from foundation.people_access import guardians_of, school_calendar, school_days, staff_of
from foundation.permissions import Forbidden, Principal, require
from foundation.plugin_hooks import lazy_hooks
from foundation.plugin_models import PluginBase, SchoolScoped, StudentScoped, bulk_insert
from foundation.plugin_runtime import config as plugin_config
from foundation.plugin_runtime import enabled_schools
from foundation.reach import (
    ClassRef,
    StudentRef,
    acting_in,
    class_in_reach,
    class_or_404,
    classes_in_reach,
    family_students,
    is_family,
    is_staff_for,
    me,
    narrow_to,
    require_family,
    require_staff,
    school_for,
    student_or_404,
    whole_school,
)
from foundation.records_access import RecordAccessError, records
from foundation.records_demo import demo_records
from foundation.security.fields import mask_id_number, mask_phone
from foundation.security.sensitive import blind_index, decrypt, encrypt

__all__ = [
    # hooks, text, errors
    "hookimpl", "lazy_hooks", "add_messages", "load_catalogue", "t", "current_lang", "APIError", "NotFound", "ValidationFailed", "Forbidden",
    "api_doc", "json_body", "text_field",
    # the session and the plugin's own tables
    "session", "utcnow", "PluginBase", "SchoolScoped", "StudentScoped", "bulk_insert",
    # who: the caller, reach and permissions
    "Principal", "me", "require", "school_for", "acting_in", "narrow_to", "student_or_404", "class_or_404", "classes_in_reach", "StudentRef", "ClassRef",
    "class_in_reach", "family_students", "is_family", "is_staff_for", "require_family", "require_staff", "whole_school",
    # the school's data, read-only: roster, people, calendar, standard records
    "Student", "OrgUnit", "guardians_of", "staff_of", "school_calendar", "school_days", "records",
    "RecordAccessError", "demo_records",
    # pages: the searchable student picker the web front end offers; a district-level page of a plugin
    "student_picker", "district_view",
    # sensitive columns of the plugin's own
    "encrypt", "decrypt", "blind_index", "mask_id_number", "mask_phone",
    # the loops: events, alerts, messages, audit
    "publish", "subscribe", "raise_alert", "raise_alerts", "send_message", "send_messages",
    "register_message_type", "audit",
    # approval flows on the platform's engine: start one, see where it waits; watch lowcode.flow.finished
    "start_flow", "flow_state", "flow_timeline", "FlowError",
    # a school's published low-code form and the template it descends from (a clone of the plugin's own)
    "template_form", "template_forms",
    # installation
    "plugin_config", "enabled_schools",
]
