"""The public plugin API: everything a plugin (first-party or a vendor's) may import from the foundation.
Anything not re-exported here is internal and may change without notice."""
from __future__ import annotations

from foundation.alerts import trigger as raise_alert
from foundation.audit import record as audit
from foundation.db import Base, session, utcnow
from foundation.errors import APIError, NotFound, ValidationFailed
from foundation.events import publish, subscribe
from foundation.hookspecs import hookimpl
from foundation.i18n import add_messages, t
from foundation.messaging import register_type as register_message_type
from foundation.messaging import send as send_message
from foundation.models import OrgUnit, Student  # read-only for plugins: the roster their data hangs on
from foundation.permissions import Forbidden, Principal, require
from foundation.plugin_models import PluginBase, SchoolScoped, StudentScoped, bulk_insert
from foundation.plugin_runtime import config as plugin_config
from foundation.plugin_runtime import enabled_schools

__all__ = [
    "APIError", "Base", "Forbidden", "NotFound", "OrgUnit", "Principal", "Student", "ValidationFailed",
    "add_messages",
    "audit", "enabled_schools", "plugin_config", "hookimpl", "publish", "require", "session", "subscribe", "t", "utcnow",
]
__all__ += ["register_message_type", "send_message"]
__all__ += ["raise_alert"]
__all__ += ["PluginBase", "SchoolScoped", "StudentScoped", "bulk_insert"]
