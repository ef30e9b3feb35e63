from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from auth import account
from auth.account import LoginLockRecord
from resolvers import activity as activities
from resolvers import (
    admin_views,
    contactpoint,
    cp_plan,
    family,
    form,
    lookup,
    person,
    report,
    search,
    user,
    user_requests,
)
from resolvers.activity import ActivityPage, ActivityRecord
from resolvers.admin_views import AuditPage, UserPage
from resolvers.contactpoint import ChangePage
from resolvers.context import Context
from resolvers.family import FamilyPage
from resolvers.form import Timeliness as TimelinessRecord
from resolvers.lookup import LookupList, LookupValueRecord
from resolvers.records import FamilyRecord, PersonRecord, SettingRecord
from resolvers.report import ReportData
from resolvers.search import MatchRecord
from resolvers.user import UserRecord
from resolvers.user_requests import RequestReport, UserRequestRecord
from resolvers.user_requests import Status as UserRequestStatus
from schema.activity import Activity, ActivityConnection
from schema.admin import AuditEventConnection, AuditFilter, UserConnection, UserRequest, UserRequestReport
from schema.contactpoint import ContactPointPage
from schema.family import Family, FamilyConnection
from schema.fields import resolved
from schema.form import Timeliness
from schema.lookahead import requested_below, requested_with
from schema.lookup import LookupValue
from schema.person import Carer, Child
from schema.report import Report, ReportInput
from schema.search import PersonMatch
from schema.setting import Setting
from schema.user import LoginLock, User


@strawberry.type
class Query:
    @resolved(graphql_type=User)
    async def me(self, info: Info[Context, None]) -> UserRecord:
        principal = info.context.require_principal()
        return await user.user_record(info.context, principal.user_id)

    @resolved(graphql_type=list[Setting])
    async def settings(self, info: Info[Context, None]) -> list[SettingRecord]:
        return await user.list_settings(info.context)

    @resolved(graphql_type=Family | None)
    async def family(self, info: Info[Context, None], id: strawberry.ID) -> FamilyRecord:
        return await family.get_family(info.context, id, requested_with(info, family.PEOPLE.values()))

    @resolved(graphql_type=Carer | None, description="A carer by id, current or departed; NOT_FOUND as for family(id).")
    async def carer(self, info: Info[Context, None], id: strawberry.ID) -> PersonRecord:
        return await person.get_person(info.context, id, "Carer")

    @resolved(graphql_type=Child | None, description="A child by id, current or departed; NOT_FOUND as for family(id).")
    async def child(self, info: Info[Context, None], id: strawberry.ID) -> PersonRecord:
        return await person.get_person(info.context, id, "Child")

    @resolved(graphql_type=FamilyConnection | None)
    async def families(
        self,
        info: Info[Context, None],
        setting_id: strawberry.ID | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> FamilyPage:
        first = 50 if first is None else first
        relations = requested_below(info, "nodes", family.PEOPLE.values())
        return await family.list_families(info.context, setting_id, first, after, relations)

    @resolved(
        graphql_type=Activity | None, description="An activity by id (ACTIVITY read); NOT_FOUND when there is none."
    )
    async def activity(self, info: Info[Context, None], id: strawberry.ID) -> ActivityRecord:
        return await activities.get_activity(info.context, id)

    @resolved(
        graphql_type=ActivityConnection | None,
        description="Activities starting, or with a session, in [from, to]; newest first.",
    )
    async def activities(
        self,
        info: Info[Context, None],
        setting_id: strawberry.ID | None = None,
        date_from: Annotated[date | None, strawberry.argument(name="from")] = None,
        date_to: Annotated[date | None, strawberry.argument(name="to")] = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> ActivityPage:
        first = 50 if first is None else first
        return await activities.list_activities(info.context, setting_id, date_from, date_to, first, after)

    @resolved(graphql_type=list[PersonMatch] | None)
    async def search_people(
        self, info: Info[Context, None], name: str, date_of_birth: date | None = None, postcode: str | None = None
    ) -> list[MatchRecord]:
        return await search.search_people(info.context, name, date_of_birth, postcode)

    @resolved(
        graphql_type=list[LookupValue],
        description="A drop-down list (standards 15); active values unless includeInactive.",
    )
    async def lookups(
        self, info: Info[Context, None], list: LookupList, include_inactive: bool = False
    ) -> list[LookupValueRecord]:
        return await lookup.list_values(info.context, list, include_inactive)

    @resolved(
        graphql_type=Timeliness | None,
        description="Items received in [from, to] and how promptly they were entered (standards 5).",
    )
    async def timeliness(
        self,
        info: Info[Context, None],
        setting_id: strawberry.ID,
        date_from: Annotated[date, strawberry.argument(name="from")],
        date_to: Annotated[date, strawberry.argument(name="to")],
    ) -> TimelinessRecord:
        return await form.timeliness(info.context, setting_id, date_from, date_to)

    @resolved(graphql_type=list[Child] | None)
    async def child_protection_list(self, info: Info[Context, None], setting_id: strawberry.ID) -> list[PersonRecord]:
        return await cp_plan.protection_list(info.context, setting_id)

    @resolved(
        graphql_type=list[LoginLock] | None,
        description="Login throttles holding back the next attempt, locks first (the eStart Administrator); "
        "lift them with unlockUser and unlockAddress.",
    )
    async def login_locks(
        self, info: Info[Context, None], locked_only: bool = False, first: int = 100
    ) -> list[LoginLockRecord]:
        return await account.login_locks(info.context, locked_only, first)

    @resolved(
        graphql_type=ContactPointPage | None,
        description="The ContactPoint feed (standards 8): changes after `after` (null: from the start), "
        "first ≤ 5000. CONTACTPOINT read only.",
    )
    async def contact_point_changes(
        self, info: Info[Context, None], after: str | None = None, first: int | None = 500
    ) -> ChangePage:
        return await contactpoint.changes(info.context, after, 500 if first is None else first)

    # --- user accounts and the administrator's views (standards 4, 15, 16) -----------------

    @resolved(
        graphql_type=list[UserRequest] | None,
        description="Requests oldest first, after the request id `after`: every one for the eStart "
        "Administrator (USER_ADMIN), the ones they filed for whoever may ask (USER_REQUEST).",
    )
    async def user_requests(
        self,
        info: Info[Context, None],
        status: UserRequestStatus | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> list[UserRequestRecord]:
        return await user_requests.list_requests(info.context, status, 50 if first is None else first, after)

    @resolved(
        graphql_type=UserRequestReport | None,
        description="Outstanding requests, earliest deadline first, with counts (USER_ADMIN).",
    )
    async def user_request_report(self, info: Info[Context, None]) -> RequestReport:
        return await user_requests.outstanding_report(info.context)

    @resolved(
        graphql_type=UserConnection | None,
        description="Users by id, with roles, status, last login and compliance dates (USER_ADMIN); `search` "
        "matches username or name, `settingId` those holding a role in that setting.",
    )
    async def users(
        self,
        info: Info[Context, None],
        first: int | None = 50,
        after: str | None = None,
        search: str | None = None,
        setting_id: strawberry.ID | None = None,
    ) -> UserPage:
        return await admin_views.list_users(info.context, 50 if first is None else first, after, search, setting_id)

    @resolved(graphql_type=AuditEventConnection | None, description="The audit log, newest first (AUDIT).")
    async def audit_events(
        self,
        info: Info[Context, None],
        filter: AuditFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> AuditPage:
        filters = (filter or AuditFilter()).data()
        return await admin_views.list_audit_events(info.context, filters, 50 if first is None else first, after)

    @resolved(
        graphql_type=Report | None,
        description="Counts of one measure by zero, one or two dimensions, suppressed (API.md "
        '"Reports"). REPORTING read; null with FORBIDDEN without it.',
    )
    async def report(self, info: Info[Context, None], input: ReportInput) -> ReportData:
        return await report.report(
            info.context, input.measure, list(input.by), input.period, input.period_start, input.setting_id or None
        )

    @resolved(
        graphql_type=list[Report] | None,
        description='The local authority\'s quarterly tables for a calendar quarter, "2026-Q3" (README).',
    )
    async def quarterly_pack(self, info: Info[Context, None], quarter: str) -> list[ReportData]:
        return await report.quarterly_pack(info.context, quarter)
