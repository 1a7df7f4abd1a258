"""All core models, importable from one place (Alembic's env imports this)."""
from foundation.models.accounts import Account, LoginFailure, Membership
from foundation.models.alerts import (
    AlertAssignee,
    AlertCase,
    AlertEscalation,
    AlertEvent,
    AlertSettings,
    SchoolCalendarDay,
)
from foundation.models.audit import AuditEntry
from foundation.models.base import SchoolScoped
from foundation.models.federation import BindingCode, FederatedIdentity, UpstreamProvider
from foundation.models.jobs import JobRun
from foundation.models.lowcode import Approval, FormVersion, LowcodeForm, Submission
from foundation.models.oauth import AuthorizationCode, Consent, OAuthClient, OAuthToken, SigningKey
from foundation.models.org import OrgUnit
from foundation.models.people import Guardian, GuardianLink, Staff, Student
from foundation.models.plugins import PluginInstall
from foundation.models.records import Authority, Change, Conflict, DataSource, ExternalId, Record
from foundation.models.square import AppListing, AppListingStep

__all__ = [
    "AlertAssignee", "AlertCase", "AlertEscalation", "AlertEvent", "AlertSettings", "SchoolCalendarDay",
    "AppListing", "AppListingStep", "Approval", "FormVersion", "LowcodeForm", "PluginInstall", "Submission",
    "Authority", "Change", "Conflict", "DataSource", "ExternalId", "Record",
    "Account", "JobRun", "LoginFailure", "AuditEntry", "AuthorizationCode", "BindingCode", "FederatedIdentity", "UpstreamProvider", "Consent", "OAuthClient", "OAuthToken", "SigningKey", "Guardian", "GuardianLink", "Membership", "OrgUnit", "SchoolScoped",
    "Staff", "Student",
]
from foundation.models.messages import Delivery, InboxItem, Message, MessageContact, MessagePreference  # noqa: E402

__all__ += ["Delivery", "InboxItem", "Message", "MessageContact", "MessagePreference"]
from foundation.models.teaching import AcademicSession, ClassTerm, Course, StudentClass  # noqa: E402

__all__ += ["AcademicSession", "ClassTerm", "Course", "StudentClass"]
from foundation.models.flows import Delegation, FlowEvent, FlowTask  # noqa: E402

__all__ += ["Delegation", "FlowEvent", "FlowTask"]
from foundation.models.planning import FacilityStandard, SchoolEnrolment, SchoolFacility  # noqa: E402

__all__ += ["FacilityStandard", "SchoolEnrolment", "SchoolFacility"]
from foundation.models.principal_versions import PrincipalVersion  # noqa: E402

__all__ += ["PrincipalVersion"]
