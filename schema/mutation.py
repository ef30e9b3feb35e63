import inspect
from collections.abc import Awaitable
from datetime import date
from typing import Annotated, TypeVar

import strawberry
from strawberry.types import Info

from auth import account
from auth.account import SessionRecord
from authz.guard import Payload
from resolvers import activity as activities
from resolvers import (
    affiliation,
    cp_plan,
    family,
    form,
    geography,
    lookup,
    note,
    person,
    subject,
    transaction,
    user,
    user_requests,
)
from resolvers.activity import ActivityRecord, ActivitySessionRecord
from resolvers.context import Context
from resolvers.lookup import LookupList, LookupValueRecord
from resolvers.records import FamilyRecord, PersonRecord, SettingRecord
from resolvers.user import UserRecord
from resolvers.user_requests import UserRequestRecord
from schema.activity import (
    Activity,
    ActivityInput,
    ActivitySession,
    ActivityUpdate,
    AttendanceInput,
    Contact,
    ContactInput,
)
from schema.admin import UserRequest, UserRequestInput
from schema.affiliation import Affiliation, AffiliationInput
from schema.cp_plan import ChildProtectionPlan, CpPlanInput
from schema.enums import Relationship
from schema.family import Family, RegisterFamilyInput, UpdateFamilyInput
from schema.fields import mutation
from schema.form import Form, FormReceivedInput, ReferralInput
from schema.geography import BirthFigureInput
from schema.lookup import LookupValue, LookupValueInput, LookupValueUpdate
from schema.note import Note, NoteInput
from schema.person import Carer, CarerInput, Child, ChildInput, RelationshipInput, UpdatePersonInput
from schema.setting import Setting
from schema.user import RoleInput, Session, SettingInput, User, UserInput

T = TypeVar("T")

# A write to a family increments its version; given, a stale one is a CONFLICT (API.md).
ExpectedVersion = Annotated[
    int | None, strawberry.argument(description="the family's version this write is based on (families only)")
]


async def atomic(info: Info[Context, None], work: Awaitable[T]) -> T:
    """One transaction per mutation: a refused or failed write leaves nothing behind. The
    resolver flushes and builds its record; the commit comes once the response is built
    (resolvers/transaction.py), so an error on the way means nothing was written."""
    try:
        await transaction.before_write(info.context)
    except BaseException:
        if inspect.iscoroutine(work):
            work.close()  # never started
        await transaction.abandon(info.context)
        raise
    try:
        result = await work
    except BaseException:
        await transaction.abandon(info.context)
        raise
    transaction.wrote(info.context)
    return result


@strawberry.type
class Mutation:
    @mutation(graphql_type=Session)
    async def login(self, info: Info[Context, None], username: str, password: str) -> SessionRecord:
        transaction.without_key(info.context)  # a retried login is a new login: nothing to replay
        return await atomic(info, account.login(info.context, username, password))

    @strawberry.mutation
    async def logout(self, info: Info[Context, None]) -> bool:
        return await atomic(info, account.logout(info.context))

    @mutation(graphql_type=Setting)
    async def create_setting(self, info: Info[Context, None], input: SettingInput) -> SettingRecord:
        return await atomic(info, user.create_setting(info.context, input.code, input.name))

    @mutation(graphql_type=User)
    async def create_user(self, info: Info[Context, None], input: UserInput) -> UserRecord:
        work = user.create_user(info.context, input.data(), info.context.authenticator.hash_password)
        return await atomic(info, work)

    @mutation(graphql_type=Family)
    async def register_family(self, info: Info[Context, None], input: RegisterFamilyInput) -> FamilyRecord:
        return await atomic(info, family.register_family(info.context, input.data()))

    @mutation(graphql_type=Family)
    async def update_family(
        self, info: Info[Context, None], id: strawberry.ID, expected_version: int, input: UpdateFamilyInput
    ) -> FamilyRecord:
        work = family.update_family(info.context, id, expected_version, input.changes())
        return await atomic(info, work)

    @mutation(
        graphql_type=Carer, description="Correct a carer's details: each field given needs its category's write right."
    )
    async def update_carer(
        self, info: Info[Context, None], id: strawberry.ID, expected_version: int, input: UpdatePersonInput
    ) -> PersonRecord:
        work = person.update_person(info.context, "Carer", id, expected_version, input.changes())
        return await atomic(info, work)

    @mutation(
        graphql_type=Child, description="Correct a child's details: each field given needs its category's write right."
    )
    async def update_child(
        self, info: Info[Context, None], id: strawberry.ID, expected_version: int, input: UpdatePersonInput
    ) -> PersonRecord:
        work = person.update_person(info.context, "Child", id, expected_version, input.changes())
        return await atomic(info, work)

    @mutation(
        graphql_type=Carer,
        description="A new carer of a registered family; relationshipToChildren applies to each child.",
    )
    async def add_carer(self, info: Info[Context, None], family_id: strawberry.ID, input: CarerInput) -> PersonRecord:
        return await atomic(info, person.add_person(info.context, "Carer", family_id, input.data(), []))

    @mutation(graphql_type=Child, description="A new child of a registered family (a newborn, a child come to stay).")
    async def add_child(
        self,
        info: Info[Context, None],
        family_id: strawberry.ID,
        input: ChildInput,
        relationships: list[RelationshipInput] | None = None,
    ) -> PersonRecord:
        links = [relationship.data() for relationship in relationships or []]
        work = person.add_person(info.context, "Child", family_id, input.data(), links)
        return await atomic(info, work)

    @mutation(graphql_type=Carer, description="How a carer is related to a child of the same family; null removes it.")
    async def set_relationship(
        self,
        info: Info[Context, None],
        carer_id: strawberry.ID,
        child_id: strawberry.ID,
        relationship: Relationship | None = None,
    ) -> PersonRecord:
        value = None if relationship is None else relationship.value
        work = person.set_relationship(info.context, carer_id, child_id, value)
        return await atomic(info, work)

    @mutation(
        description="The person leaves the family; their record, notes and history are kept. PRIMARY write, and "
        "SECONDARY write for the reason (secondary data)."
    )
    async def remove_from_family(
        self, info: Info[Context, None], person_id: strawberry.ID, left_on: date, reason: str
    ) -> bool:
        return await atomic(info, person.remove_from_family(info.context, person_id, left_on, reason))

    # --- activities, sessions, registers, contacts (resolvers/activity.py) -----------------------

    @mutation(graphql_type=Activity, description="A new activity of a setting (ACTIVITY write in input.settingId).")
    async def create_activity(self, info: Info[Context, None], input: ActivityInput) -> ActivityRecord:
        return await atomic(info, activities.create_activity(info.context, input.data()))

    @mutation(
        graphql_type=Activity,
        description="Change an activity's fields (ACTIVITY write in its setting); version-checked.",
    )
    async def update_activity(
        self, info: Info[Context, None], id: strawberry.ID, expected_version: int, input: ActivityUpdate
    ) -> ActivityRecord:
        work = activities.update_activity(info.context, id, expected_version, input.changes())
        return await atomic(info, work)

    @mutation(
        graphql_type=list[ActivitySession],
        description="Sessions of an activity on these dates, at its start time and duration.",
    )
    async def add_sessions(
        self, info: Info[Context, None], activity_id: strawberry.ID, dates: list[date]
    ) -> list[ActivitySessionRecord]:
        return await atomic(info, activities.add_sessions(info.context, activity_id, dates))

    @mutation(
        graphql_type=ActivitySession,
        description="Enter a session's register (at most 500 entries; all or nothing; re-entering a person "
        "replaces their entry). A family neither registered with nor affiliated to the activity's setting is "
        "BAD_USER_INPUT with extensions.reason AFFILIATION_REQUIRED.",
    )
    async def record_attendance(
        self, info: Info[Context, None], session_id: strawberry.ID, entries: list[AttendanceInput]
    ) -> ActivitySessionRecord:
        work = activities.record_attendance(info.context, session_id, [entry.data() for entry in entries])
        return await atomic(info, work)

    @mutation(
        graphql_type=Contact,
        description="A home visit or other contact: SECONDARY write in a setting of the family's scope.",
    )
    async def record_contact(self, info: Info[Context, None], input: ContactInput) -> Payload:
        return await atomic(info, activities.record_contact(info.context, input.data()))

    @mutation(graphql_type=Note)
    async def add_note(self, info: Info[Context, None], input: NoteInput) -> Payload:
        work = note.add_note(info.context, input.subject_id, input.kind.name, input.text, input.corrects_note_id)
        return await atomic(info, work)

    @mutation(graphql_type=Affiliation)
    async def affiliate(self, info: Info[Context, None], input: AffiliationInput) -> Payload:
        work = affiliation.affiliate(
            info.context, input.family_id, input.setting_id, input.consent_given_by, input.consent_date
        )
        return await atomic(info, work)

    @mutation(graphql_type=Affiliation)
    async def revoke_affiliation(self, info: Info[Context, None], id: strawberry.ID) -> Payload:
        return await atomic(info, affiliation.revoke_affiliation(info.context, id))

    @mutation(graphql_type=ChildProtectionPlan)
    async def start_child_protection_plan(self, info: Info[Context, None], input: CpPlanInput) -> Payload:
        work = cp_plan.start_plan(info.context, input.child_id, input.start_date, input.category.name)
        return await atomic(info, work)

    @mutation(graphql_type=ChildProtectionPlan)
    async def end_child_protection_plan(self, info: Info[Context, None], id: strawberry.ID, end_date: date) -> Payload:
        return await atomic(info, cp_plan.end_plan(info.context, id, end_date))

    @mutation(description="Replace the warnings of a family, carer or child (codes of the WARNING list).")
    async def set_warnings(
        self,
        info: Info[Context, None],
        subject_id: strawberry.ID,
        codes: list[str],
        expected_version: ExpectedVersion = None,
    ) -> list[str]:
        work = subject.set_codes(info.context, subject_id, LookupList.WARNING, codes, expected_version)
        return await atomic(info, work)

    @mutation(description="Replace the hard-to-reach groups of a family, carer or child.")
    async def set_hard_to_reach_groups(
        self,
        info: Info[Context, None],
        subject_id: strawberry.ID,
        codes: list[str],
        expected_version: ExpectedVersion = None,
    ) -> list[str]:
        work = subject.set_codes(info.context, subject_id, LookupList.HARD_TO_REACH_GROUP, codes, expected_version)
        return await atomic(info, work)

    @mutation(description="Replace the custom indicators of a family, carer or child.")
    async def set_indicators(
        self,
        info: Info[Context, None],
        subject_id: strawberry.ID,
        codes: list[str],
        expected_version: ExpectedVersion = None,
    ) -> list[str]:
        work = subject.set_codes(info.context, subject_id, LookupList.CUSTOM_INDICATOR, codes, expected_version)
        return await atomic(info, work)

    @mutation(description="Replace the general note of a family, carer or child (null clears it).")
    async def set_general_note(
        self,
        info: Info[Context, None],
        subject_id: strawberry.ID,
        text: str | None,
        expected_version: ExpectedVersion = None,
    ) -> str | None:
        return await atomic(info, subject.set_general_note(info.context, subject_id, text, expected_version))

    @mutation(graphql_type=Form, description="Log an item received, outstanding until it is entered (standards 5).")
    async def log_form_received(self, info: Info[Context, None], input: FormReceivedInput) -> Payload:
        work = form.log_received(info.context, input.setting_id, input.kind, input.received_on, input.description)
        return await atomic(info, work)

    @mutation(graphql_type=Form, description="Mark an item logged by logFormReceived as entered (standards 5).")
    async def mark_form_entered(self, info: Info[Context, None], id: strawberry.ID) -> Payload:
        return await atomic(info, form.enter_logged(info.context, id))

    @mutation(graphql_type=Form, description="Enter a referral for a registered family (standards 5.2).")
    async def record_referral(
        self,
        info: Info[Context, None],
        family_id: strawberry.ID,
        received_on: date,
        referral: ReferralInput,
        form_id: strawberry.ID | None = None,
    ) -> Payload:
        work = family.record_referral(info.context, family_id, received_on, referral.data(), form_id)
        return await atomic(info, work)

    @mutation(graphql_type=LookupValue, description="Add a value to a drop-down list (the eStart Administrator).")
    async def add_lookup_value(self, info: Info[Context, None], input: LookupValueInput) -> LookupValueRecord:
        applies_to = None if input.applies_to is None else input.applies_to.value
        work = lookup.add_value(info.context, input.list, input.code, input.label, input.setting_id, applies_to)
        return await atomic(info, work)

    @mutation(
        graphql_type=LookupValue, description="Relabel, deactivate or reactivate a value; values are never deleted."
    )
    async def update_lookup_value(self, info: Info[Context, None], input: LookupValueUpdate) -> LookupValueRecord:
        work = lookup.update_value(info.context, input.list, input.code, input.label, input.active)
        return await atomic(info, work)

    @mutation(
        description="Replace the postcode list (CSV with the header postcode,reach_area,lsoa); a bad row rejects "
        "the import with its line number. Returns the rows loaded. LOOKUPS_ADMIN."
    )
    async def import_postcode_areas(self, info: Info[Context, None], csv: str) -> int:
        return await atomic(info, geography.import_postcode_areas(info.context, csv))

    @mutation(description="Set monthly births per reach area (penetration, standards 5.1). LOOKUPS_ADMIN.")
    async def set_birth_figures(self, info: Info[Context, None], entries: list[BirthFigureInput]) -> int:
        births = [geography.Birth(e.month, e.reach_area, e.births) for e in entries]
        return await atomic(info, geography.set_birth_figures(info.context, births))

    # --- accounts: locks, deactivation, passwords (resolvers/account.py) -------------------

    @mutation(
        description="Lift the lock that failed logins put on an account (the eStart Administrator); "
        "true if it was locked."
    )
    async def unlock_user(self, info: Info[Context, None], username: str) -> bool:
        return await atomic(info, account.unlock_user(info.context, username))

    @mutation(
        description="Lift the lock that failed logins put on a client address (the eStart Administrator); "
        "true if it was locked."
    )
    async def unlock_address(self, info: Info[Context, None], address: str) -> bool:
        return await atomic(info, account.unlock_address(info.context, address))

    @mutation(
        graphql_type=User, description="Deactivate a user (the eStart Administrator): every session ends at once."
    )
    async def deactivate_user(self, info: Info[Context, None], id: strawberry.ID) -> UserRecord:
        return await atomic(info, account.deactivate_user(info.context, id))

    @mutation(
        description="Reset a user's password (the eStart Administrator; 12 to 256 characters, not easy to guess): "
        "every session of the user ends, any login lock is lifted, and the user must change it at the next login."
    )
    async def set_password(self, info: Info[Context, None], user_id: strawberry.ID, password: str) -> bool:
        return await atomic(info, account.set_password(info.context, user_id, password))

    @mutation(
        description="Change your own password (12 to 256 characters, not easy to guess, not the current one): "
        "your other sessions end, this one stays."
    )
    async def change_password(self, info: Info[Context, None], current_password: str, new_password: str) -> bool:
        return await atomic(info, account.change_password(info.context, current_password, new_password))

    # --- user requests (standards 4, 15, 16; resolvers/user_requests.py) --------------------

    @mutation(
        graphql_type=UserRequest,
        description="A User Request Form: a new user for your settings; approval issues a one-time password.",
    )
    async def request_user(self, info: Info[Context, None], input: UserRequestInput) -> UserRequestRecord:
        return await atomic(info, user_requests.request_user(info.context, input.data()))

    @mutation(graphql_type=UserRequest, description="Ask for a user's roles to be replaced by `roles`.")
    async def request_role_change(
        self, info: Info[Context, None], user_id: strawberry.ID, roles: list[RoleInput]
    ) -> UserRequestRecord:
        work = user_requests.request_role_change(info.context, user_id, [role.data() for role in roles])
        return await atomic(info, work)

    @mutation(
        graphql_type=UserRequest,
        description="Ask for a user's password to be reset (standards 4: only at a manager's request).",
    )
    async def request_password_reset(self, info: Info[Context, None], user_id: strawberry.ID) -> UserRequestRecord:
        return await atomic(info, user_requests.request_password_reset(info.context, user_id))

    @mutation(graphql_type=UserRequest, description="A User Termination Form (standards 16).")
    async def request_termination(
        self, info: Info[Context, None], user_id: strawberry.ID, reason: str
    ) -> UserRequestRecord:
        return await atomic(info, user_requests.request_termination(info.context, user_id, reason))

    @mutation(
        graphql_type=UserRequest,
        description="Approve (USER_ADMIN), never one's own request nor one about oneself; a request needing two "
        "administrators is AWAITING_SECOND_APPROVAL after the first. The last approval carries it out.",
    )
    async def approve_user_request(self, info: Info[Context, None], id: strawberry.ID) -> UserRequestRecord:
        return await atomic(info, user_requests.approve(info.context, id))

    @mutation(graphql_type=UserRequest, description="Reject a request (USER_ADMIN), with the reason.")
    async def reject_user_request(self, info: Info[Context, None], id: strawberry.ID, reason: str) -> UserRequestRecord:
        return await atomic(info, user_requests.reject(info.context, id, reason))

    @mutation(
        graphql_type=User,
        description="Record a renewed CRB check or data-protection training (USER_ADMIN); "
        "an omitted date is unchanged.",
    )
    async def record_compliance(
        self,
        info: Info[Context, None],
        user_id: strawberry.ID,
        crb_checked_on: date | None = None,
        data_protection_trained_on: date | None = None,
    ) -> UserRecord:
        work = user.record_compliance(info.context, user_id, crb_checked_on, data_protection_trained_on)
        return await atomic(info, work)
