"""What the schema hands resolvers: the input of each mutation, typed (records.py is the other
direction). Enums arrive as the values the database stores; ids as the API's opaque strings,
which the resolver decodes. An update's changes hold only the fields the client gave: an
omitted field is absent, a null one clears (`total=False`)."""

from datetime import date, datetime, time
from typing import NotRequired, TypedDict

from authz.categories import Category, Role

# --- families and their people (resolvers/family.py, resolvers/person.py) ----------------------


class AddressData(TypedDict):
    line1: str | None
    line2: str | None
    town: str | None
    postcode: str | None


class PersonData(TypedDict):
    first_name: str
    last_name: str
    date_of_birth: date | None
    gender: str
    ethnicity: str | None
    language: str | None
    relationship: NotRequired[str | None]  # a carer's relationship to the family's children
    provisional_name: NotRequired[bool]  # a child: an unnamed newborn


class ReferralData(TypedDict):
    referral_type: str
    reason: str
    referrer_name: str | None
    organisation: str | None


class NewFamily(TypedDict):
    setting_id: str
    source: str
    received_on: date
    consent_to_contact: bool
    address: AddressData | None
    carers: list[PersonData]
    children: list[PersonData]
    general_note: str | None
    form_id: str | None
    consent_date: date | None
    referral: ReferralData | None


class FamilyChanges(TypedDict, total=False):
    address: AddressData | None
    general_note: str | None
    notice_received_on: date | None


class PersonChanges(TypedDict, total=False):
    first_name: str | None
    last_name: str | None
    date_of_birth: date | None
    gender: str | None
    ethnicity: str | None
    language: str | None
    notice_received_on: date | None


class RelationshipData(TypedDict):
    carer_id: str
    relationship: str


# --- activities, registers, contacts (resolvers/activity.py) ----------------------------------


class NewActivity(TypedDict):
    setting_id: str
    description: str
    provider: str
    project_leader: str
    frequency: str
    outcome_type: str
    access_group: str
    start_date: date
    start_time: time
    duration_minutes: int
    aims: str
    outcome: str | None
    event_type: str | None


class ActivityChanges(TypedDict, total=False):
    description: str | None
    provider: str | None
    project_leader: str | None
    frequency: str | None
    outcome_type: str | None
    outcome: str | None
    access_group: str | None
    event_type: str | None
    start_date: date | None
    start_time: time | None
    duration_minutes: int | None
    aims: str | None


class AttendanceData(TypedDict):
    person_id: str
    attended: bool


class NewContact(TypedDict):
    family_id: str
    kind: str
    date: date
    duration_minutes: int | None
    summary: str | None
    people_seen: list[str]


# --- users and requests (resolvers/user.py, resolvers/user_requests.py, resolvers/admin_views.py)


class RoleData(TypedDict):
    role: Role
    setting_id: str | None


class NewUser(TypedDict):
    username: str
    display_name: str
    password: str
    crb_checked_on: date
    data_protection_trained_on: date
    roles: list[RoleData]


class NewUserRequest(TypedDict):
    username: str
    display_name: str
    crb_checked_on: date
    data_protection_trained_on: date
    roles: list[RoleData]


class AuditFilterData(TypedDict):
    user_id: str | None
    subject_id: str | None
    category: Category | None
    action: str | None
    date_from: datetime | None
    date_to: datetime | None
