from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from auth import account
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
from resolvers.context import Context
from resolvers.family import FamilyPage
from resolvers.lookup import LookupList
from resolvers.user_requests import Status as UserRequestStatus
from schema.activity import Activity, ActivityConnection
from schema.admin import AuditEventConnection, AuditFilter, UserConnection, UserRequest, UserRequestReport
from schema.contactpoint import ContactPointPage
from schema.family import Family, FamilyConnection
from schema.form import Timeliness
from schema.lookahead import requested, requested_under
from schema.lookup import LookupValue
from schema.mutation import plain
from schema.person import Carer, Child
from schema.report import Report, ReportInput
from schema.search import PersonMatch
from schema.setting import Setting
from schema.user import LoginLock, User


@strawberry.type
class Query:
    @strawberry.field
    async def me(self, info: Info[Context, None]) -> User:
        principal = info.context.require_principal()
        return await user.user_record(info.context, principal.user_id)  # type: ignore[return-value]

    @strawberry.field
    async def settings(self, info: Info[Context, None]) -> list[Setting]:
        return await user.list_settings(info.context)  # type: ignore[return-value]

    @strawberry.field
    async def family(self, info: Info[Context, None], id: strawberry.ID) -> Family | None:
        return await family.get_family(info.context, id, requested(info))  # type: ignore[return-value]

    @strawberry.field(description="A carer by id, current or departed; NOT_FOUND as for family(id).")
    async def carer(self, info: Info[Context, None], id: strawberry.ID) -> Carer | None:
        return await person.get_person(info.context, id, "Carer")  # type: ignore[return-value]

    @strawberry.field(description="A child by id, current or departed; NOT_FOUND as for family(id).")
    async def child(self, info: Info[Context, None], id: strawberry.ID) -> Child | None:
        return await person.get_person(info.context, id, "Child")  # type: ignore[return-value]

    @strawberry.field
    async def families(
        self,
        info: Info[Context, None],
        setting_id: strawberry.ID | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> FamilyConnection | None:
        first = 50 if first is None else first
        relations = requested_under(info, "nodes")
        page: FamilyPage = await family.list_families(info.context, setting_id, first, after, relations)
        return page  # type: ignore[return-value]

    @strawberry.field(description="An activity by id (ACTIVITY read); NOT_FOUND when there is none.")
    async def activity(self, info: Info[Context, None], id: strawberry.ID) -> Activity | None:
        return await activities.get_activity(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description="Activities starting, or with a session, in [from, to]; newest first.")
    async def activities(
        self,
        info: Info[Context, None],
        setting_id: strawberry.ID | None = None,
        date_from: Annotated[date | None, strawberry.argument(name="from")] = None,
        date_to: Annotated[date | None, strawberry.argument(name="to")] = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> ActivityConnection | None:
        first = 50 if first is None else first
        page = await activities.list_activities(info.context, setting_id, date_from, date_to, first, after)
        return page  # type: ignore[return-value]

    @strawberry.field
    async def search_people(
        self, info: Info[Context, None], name: str, date_of_birth: date | None = None, postcode: str | None = None
    ) -> list[PersonMatch] | None:
        return await search.search_people(info.context, name, date_of_birth, postcode)  # type: ignore[return-value]

    @strawberry.field(description="A drop-down list (standards 15); active values unless includeInactive.")
    async def lookups(
        self, info: Info[Context, None], list: LookupList, include_inactive: bool = False
    ) -> list[LookupValue]:
        return await lookup.list_values(info.context, list, include_inactive)

    @strawberry.field(description="Items received in [from, to] and how promptly they were entered (standards 5).")
    async def timeliness(
        self,
        info: Info[Context, None],
        setting_id: strawberry.ID,
        date_from: Annotated[date, strawberry.argument(name="from")],
        date_to: Annotated[date, strawberry.argument(name="to")],
    ) -> Timeliness | None:
        return await form.timeliness(info.context, setting_id, date_from, date_to)

    @strawberry.field
    async def child_protection_list(self, info: Info[Context, None], setting_id: strawberry.ID) -> list[Child] | None:
        return await cp_plan.protection_list(info.context, setting_id)  # type: ignore[return-value]

    @strawberry.field(
        description="Login throttles holding back the next attempt, locks first (the eStart Administrator); "
        "lift them with unlockUser and unlockAddress."
    )
    async def login_locks(
        self, info: Info[Context, None], locked_only: bool = False, first: int = 100
    ) -> list[LoginLock] | None:
        return await account.login_locks(info.context, locked_only, first)

    @strawberry.field(
        description="The ContactPoint feed (standards 8): changes after `after` (null: from the start), "
        "first ≤ 5000. CONTACTPOINT read only."
    )
    async def contact_point_changes(
        self, info: Info[Context, None], after: str | None = None, first: int | None = 500
    ) -> ContactPointPage | None:
        return await contactpoint.changes(info.context, after, 500 if first is None else first)  # type: ignore[return-value]

    # --- user accounts and the administrator's views (standards 4, 15, 16) -----------------

    @strawberry.field(
        description="Requests oldest first, after the request id `after`: every one for the eStart "
        "Administrator (USER_ADMIN), the ones they filed for whoever may ask (USER_REQUEST)."
    )
    async def user_requests(
        self,
        info: Info[Context, None],
        status: UserRequestStatus | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> list[UserRequest] | None:
        work = user_requests.list_requests(info.context, status, 50 if first is None else first, after)
        return await work  # type: ignore[return-value]

    @strawberry.field(description="Outstanding requests, earliest deadline first, with counts (USER_ADMIN).")
    async def user_request_report(self, info: Info[Context, None]) -> UserRequestReport | None:
        return await user_requests.outstanding_report(info.context)  # type: ignore[return-value]

    @strawberry.field(
        description="Users by id, with roles, status, last login and compliance dates (USER_ADMIN); `search` "
        "matches username or name, `settingId` those holding a role in that setting."
    )
    async def users(
        self,
        info: Info[Context, None],
        first: int | None = 50,
        after: str | None = None,
        search: str | None = None,
        setting_id: strawberry.ID | None = None,
    ) -> UserConnection | None:
        work = admin_views.list_users(info.context, 50 if first is None else first, after, search, setting_id)
        return await work  # type: ignore[return-value]

    @strawberry.field(description="The audit log, newest first (AUDIT).")
    async def audit_events(
        self,
        info: Info[Context, None],
        filter: AuditFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> AuditEventConnection | None:
        filters = {} if filter is None else plain(filter)
        work = admin_views.list_audit_events(info.context, filters, 50 if first is None else first, after)
        return await work  # type: ignore[return-value]

    @strawberry.field(
        description="Counts of one measure by zero, one or two dimensions, suppressed (API.md "
        '"Reports"). REPORTING read; null with FORBIDDEN without it.'
    )
    async def report(self, info: Info[Context, None], input: ReportInput) -> Report | None:
        return await report.report(  # type: ignore[return-value]
            info.context, input.measure, list(input.by), input.period, input.period_start, input.setting_id or None
        )

    @strawberry.field(description='The local authority\'s quarterly tables for a calendar quarter, "2026-Q3" (README).')
    async def quarterly_pack(self, info: Info[Context, None], quarter: str) -> list[Report] | None:
        return await report.quarterly_pack(info.context, quarter)  # type: ignore[return-value]
