"""All core models, importable from one place (Alembic's env imports this)."""
from foundation.models.accounts import Account, Membership
from foundation.models.audit import AuditEntry
from foundation.models.base import SchoolScoped
from foundation.models.org import OrgUnit
from foundation.models.people import Guardian, GuardianLink, Staff, Student

__all__ = [
    "Account", "AuditEntry", "Guardian", "GuardianLink", "Membership", "OrgUnit", "SchoolScoped",
    "Staff", "Student",
]
