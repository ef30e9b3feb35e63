from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from auth import account
from resolvers import contactpoint, cp_plan, family, form, lookup, person, report, search, user
from resolvers.context import Context
from resolvers.family import FamilyPage
from resolvers.lookup import LookupList
from schema.contactpoint import ContactPointPage
from schema.family import Family, FamilyConnection
from schema.form import Timeliness
from schema.lookahead import requested_under
from schema.lookup import LookupValue
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
        return await family.get_family(info.context, id)  # type: ignore[return-value]

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
    ) -> FamilyConnection:
        first = 50 if first is None else first
        relations = requested_under(info, "nodes")
        page: FamilyPage = await family.list_families(info.context, setting_id, first, after, relations)
        return page  # type: ignore[return-value]

    @strawberry.field
    async def search_people(
        self, info: Info[Context, None], name: str, date_of_birth: date | None = None, postcode: str | None = None
    ) -> list[PersonMatch]:
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
    ) -> Timeliness:
        return await form.timeliness(info.context, setting_id, date_from, date_to)

    @strawberry.field
    async def child_protection_list(self, info: Info[Context, None], setting_id: strawberry.ID) -> list[Child]:
        return await cp_plan.protection_list(info.context, setting_id)  # type: ignore[return-value]

    @strawberry.field(
        description="Login throttles holding back the next attempt, locks first (the eStart Administrator); "
        "lift them with unlockUser and unlockAddress."
    )
    async def login_locks(
        self, info: Info[Context, None], locked_only: bool = False, first: int = 100
    ) -> list[LoginLock]:
        return await account.login_locks(info.context, locked_only, first)

    @strawberry.field(
        description="The ContactPoint feed (standards 8): changes after `after` (null: from the start), "
        "first ≤ 5000. CONTACTPOINT read only."
    )
    async def contact_point_changes(
        self, info: Info[Context, None], after: str | None = None, first: int = 500
    ) -> ContactPointPage | None:
        return await contactpoint.changes(info.context, after, first)  # type: ignore[return-value]

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
