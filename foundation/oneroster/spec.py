"""The OneRoster CSV files this package reads and writes: headers in order, what the importer needs,
known header typos, and the enumerations it checks (1.2; 1.1 differences noted)."""
from __future__ import annotations

SYSTEM = "oneroster"  # ExternalId.system and the Conflict/Authority source code of imports

HEADERS_12: dict[str, tuple[str, ...]] = {
    "orgs.csv": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"),
    "academicSessions.csv": ("sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
                             "parentSourcedId", "schoolYear"),
    "courses.csv": ("sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode",
                    "grades", "orgSourcedId", "subjects", "subjectCodes"),
    "classes.csv": ("sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
                    "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes",
                    "periods"),
    "users.csv": ("sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName",
                  "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades",
                  "password", "userMasterIdentifier", "preferredGivenName", "preferredMiddleName",
                  "preferredFamilyName", "primaryOrgSourcedId", "pronouns"),
    "roles.csv": ("sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate",
                  "endDate", "orgSourcedId", "userProfileSourcedId"),
    "enrollments.csv": ("sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
                        "userSourcedId", "role", "primary", "beginDate", "endDate"),
    "demographics.csv": ("sourcedId", "status", "dateLastModified", "birthDate", "sex",
                         "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
                         "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
                         "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation",
                         "cityOfBirth", "publicSchoolResidenceStatus"),
}
# 1.1 users.csv carries the role and the orgs itself (there is no roles.csv); 1.2 added columns at the end
USERS_11 = ("sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
            "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
            "agentSourcedIds", "grades", "password")
# columns any version may carry (read when present, never required)
EXTRA_KNOWN = {"users.csv": ("orgSourcedIds", "role", "resourceSourcedIds")}
MANIFEST = ("propertyName", "value")

# What the importer cannot do without (a missing one is a file-level error) ...
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "orgs.csv": ("sourcedId", "name", "type"),
    "academicSessions.csv": ("sourcedId", "title", "type", "startDate", "endDate"),
    "courses.csv": ("sourcedId", "title", "orgSourcedId"),
    "classes.csv": ("sourcedId", "title", "schoolSourcedId"),
    "users.csv": ("sourcedId", "givenName", "familyName"),
    "roles.csv": ("userSourcedId", "role", "orgSourcedId"),
    "enrollments.csv": ("classSourcedId", "userSourcedId", "role"),
    "demographics.csv": ("sourcedId",),
}
# ... and the values a row cannot do without (a blank one is a row error)
REQUIRED_VALUES: dict[str, tuple[str, ...]] = {
    "orgs.csv": ("sourcedId", "name", "type"),
    "academicSessions.csv": ("sourcedId", "title", "type", "startDate", "endDate"),
    "courses.csv": ("sourcedId", "title", "orgSourcedId"),
    "classes.csv": ("sourcedId", "title", "schoolSourcedId"),
    "users.csv": ("sourcedId",),
    "roles.csv": ("userSourcedId", "role", "orgSourcedId"),
    "enrollments.csv": ("classSourcedId", "userSourcedId", "role"),
    "demographics.csv": ("sourcedId",),
}
# Files in dependency order: the order they are read and applied in.
DATA_FILES = ("orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv", "roles.csv",
              "demographics.csv", "enrollments.csv")
# Every file a 1.2 manifest may list (file.<stem>); the ones not in DATA_FILES are accepted and ignored.
MANIFEST_FILES = ("academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
                  "demographics", "enrollments", "lineItemLearningObjectiveIds", "lineItems",
                  "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds", "results",
                  "resultScoreScales", "roles", "scoreScales", "userProfiles", "userResources", "users")

# Misspellings seen in real bundles (lower-cased) → the spec's column name.
TYPOS = {
    "prefferedgivenname": "preferredGivenName", "prefferedmiddlename": "preferredMiddleName",
    "prefferedfamilyname": "preferredFamilyName", "preferedgivenname": "preferredGivenName",
    "preferedmiddlename": "preferredMiddleName", "preferedfamilyname": "preferredFamilyName",
    "datalastmodified": "dateLastModified", "sourceid": "sourcedId",
    "agentsourceids": "agentSourcedIds", "orgsourceid": "orgSourcedId", "schoolsourceid": "schoolSourcedId",
    "classsourceid": "classSourcedId", "usersourceid": "userSourcedId",
}

# OneRoster 1.0 column names, per file (lower-cased) → the 1.1/1.2 name they are read as (reported once).
NAMES_10 = {
    "users.csv": {"agents": "agentSourcedIds", "userid": "userIds"},
    "demographics.csv": {"usersourcedid": "sourcedId", "birthdate": "birthDate"},
    "classes.csv": {"grade": "grades", "termsourcedid": "termSourcedIds"},
    "courses.csv": {"schoolyearid": "schoolYearSourcedId", "grade": "grades"},
}

STATUSES = ("active", "tobedeleted")
ORG_TYPES = ("department", "school", "district", "local", "state", "national")
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")
CLASS_TYPES = ("homeroom", "scheduled")
STUDENT_ROLES = frozenset({"student"})
GUARDIAN_ROLES = frozenset({"parent", "guardian", "relative"})
STAFF_ROLES = frozenset({"teacher", "aide", "administrator", "siteAdministrator", "districtAdministrator",
                         "principal", "counselor", "proctor", "systemAdministrator"})
ROLES = STUDENT_ROLES | GUARDIAN_ROLES | STAFF_ROLES
# GB/T 4761 relation of a guardian to the student, by OneRoster role: "59" 其他父母关系 for a parent or a
# legal guardian (OneRoster does not say father or mother), "97" 其他亲属 for a relative.
RELATION_OF_ROLE = {"parent": "59", "guardian": "59", "relative": "97"}
# Staff.title of a person created from a role (the bundle has no post; the school can refine it).
TITLE_OF_ROLE = {"teacher": "教师", "aide": "助教", "administrator": "管理员", "siteAdministrator": "学校管理员",
                 "districtAdministrator": "区管理员", "principal": "校长", "counselor": "心理辅导教师",
                 "proctor": "监考教师", "systemAdministrator": "系统管理员"}
# demographics.sex → GB/T 2261.1: "unspecified" is 9 未说明的性别; blank or "other" is 0 未知的性别
SEX_CODES = {"male": "1", "female": "2", "m": "1", "f": "2", "unspecified": "9"}
SEX_NAMES = {"1": "male", "2": "female", "9": "unspecified"}
# Ethnicity for a new student: OneRoster carries none that maps to GB/T 3304, which has no "unknown";
# "97" 其他 is the only code that claims nothing. A bundle may carry it in ``metadata.jizuo.ethnicity``.
UNKNOWN_ETHNICITY = "97"
ETHNICITY_COLUMN = "metadata.jizuo.ethnicity"
# tobedeleted student: JY/T 1001 "99" 其他 — the bundle says the record left the source system, not why
# (退学 03, 转学 10 and 毕业 07 would each claim a reason we do not know).
DELETED_STUDENT_STATUS = "99"
