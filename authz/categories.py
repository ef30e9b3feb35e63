"""The vocabulary of authorization: roles, data categories, actions."""

from enum import StrEnum


class Role(StrEnum):
    SENIOR_MANAGEMENT = "senior_management"
    HEAD_OF_CENTRE = "head_of_centre"
    MANAGER = "manager"
    SENIOR_ADMINISTRATOR = "senior_administrator"
    PARENT_SUPPORT_WORKER = "parent_support_worker"
    ADMIN_OFFICER = "admin_officer"
    SYSTEM_ADMINISTRATOR = "system_administrator"
    CONTACTPOINT_FEED = "contactpoint_feed"
    LA_REPORTING = "la_reporting"


class Category(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    CONFIDENTIAL = "confidential"
    CP_PLAN = "cp_plan"
    ACTIVITY = "activity"
    REPORTING = "reporting"
    USER_ADMIN = "user_admin"
    LOOKUPS_ADMIN = "lookups_admin"
    AUDIT = "audit"
    CONTACTPOINT = "contactpoint"
    # Asking the eStart Administrator for a new user, a change of roles, a password reset or a
    # termination (standards 4, 15, 16): the setting manager's signature on the forms.
    USER_REQUEST = "user_request"


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


# Categories of data held on a family record, whose reach is the family's row scope.
FAMILY_CATEGORIES = (Category.PRIMARY, Category.SECONDARY, Category.CONFIDENTIAL, Category.CP_PLAN)

# Data shared across all settings (standards 13: primary data and activity definitions): read by
# every staff role everywhere, and only ever returned to a caller who may read it, so API.md
# gives these fields non-null types; every other guarded field is nullable.
SHARED_CATEGORIES = (Category.PRIMARY, Category.ACTIVITY)


class Inherited:
    """Marker for the fields of a record reached only through a guarded field (a note, an
    address): the guard of that field has already decided, so these fields need none."""

    def __repr__(self) -> str:
        return "INHERITED"


INHERITED = Inherited()
FieldCategory = Category | Inherited
