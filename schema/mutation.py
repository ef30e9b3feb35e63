from collections.abc import Awaitable
from datetime import date
from typing import Any, TypeVar

import strawberry
from sqlalchemy import update
from strawberry.types import Info

from models import LoginSession
from models.base import utcnow
from resolvers import affiliation, cp_plan, family, note, user
from resolvers.context import Context
from schema.affiliation import Affiliation, AffiliationInput
from schema.cp_plan import ChildProtectionPlan, CpPlanInput
from schema.family import Family, RegisterFamilyInput, UpdateFamilyInput
from schema.note import Note, NoteInput
from schema.setting import Setting
from schema.user import Session, SettingInput, User, UserInput

T = TypeVar("T")


async def atomic(info: Info[Context, None], work: Awaitable[T]) -> T:
    """One transaction per mutation: a refused or failed write leaves nothing behind."""
    try:
        return await work
    except BaseException:
        await info.context.session.rollback()
        raise


def plain(value: Any) -> Any:
    """An input object as plain dicts, lists and enum names (what the database stores);
    fields the client omitted (UNSET) are left out."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: plain(v) for k, v in vars(value).items() if v is not strawberry.UNSET}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if hasattr(value, "value") and hasattr(value, "name"):
        return value.name
    return value


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def login(self, info: Info[Context, None], username: str, password: str) -> Session:
        ctx = info.context

        async def work() -> Any:
            token, login_session, account = await ctx.authenticator.login(ctx.session, username, password)
            ctx.audit.write("session.login", "User", account.id)
            await ctx.session.commit()
            return Session(
                token=token, expires_at=login_session.expires_at, user=await user.user_record(ctx, account.id)
            )  # type: ignore[arg-type]

        return await atomic(info, work())  # type: ignore[no-any-return]

    @strawberry.mutation
    async def logout(self, info: Info[Context, None]) -> bool:
        ctx = info.context
        principal = ctx.require_principal()
        await ctx.session.execute(
            update(LoginSession).where(LoginSession.id == principal.session_id).values(revoked_at=utcnow())
        )
        ctx.audit.write("session.logout", "User", principal.user_id)
        await ctx.session.commit()
        return True

    @strawberry.mutation
    async def create_setting(self, info: Info[Context, None], input: SettingInput) -> Setting:
        return await atomic(info, user.create_setting(info.context, input.code, input.name))  # type: ignore[return-value]

    @strawberry.mutation
    async def create_user(self, info: Info[Context, None], input: UserInput) -> User:
        work = user.create_user(info.context, plain(input), info.context.authenticator.hash_password)
        return await atomic(info, work)  # type: ignore[return-value]

    @strawberry.mutation
    async def register_family(self, info: Info[Context, None], input: RegisterFamilyInput) -> Family:
        data = plain(input)
        for person in data["carers"]:
            person["relationship"] = person.pop("relationship_to_children", None)
        return await atomic(info, family.register_family(info.context, data))  # type: ignore[return-value]

    @strawberry.mutation
    async def update_family(
        self, info: Info[Context, None], id: strawberry.ID, expected_version: int, input: UpdateFamilyInput
    ) -> Family:
        work = family.update_family(info.context, id, expected_version, plain(input))
        return await atomic(info, work)  # type: ignore[return-value]

    @strawberry.mutation
    async def add_note(self, info: Info[Context, None], input: NoteInput) -> Note:
        work = note.add_note(info.context, input.subject_id, input.kind.name, input.text)
        return await atomic(info, work)  # type: ignore[return-value]

    @strawberry.mutation
    async def affiliate(self, info: Info[Context, None], input: AffiliationInput) -> Affiliation:
        work = affiliation.affiliate(
            info.context, input.family_id, input.setting_id, input.consent_given_by, input.consent_date
        )
        return await atomic(info, work)  # type: ignore[return-value]

    @strawberry.mutation
    async def revoke_affiliation(self, info: Info[Context, None], id: strawberry.ID) -> Affiliation:
        return await atomic(info, affiliation.revoke_affiliation(info.context, id))  # type: ignore[return-value]

    @strawberry.mutation
    async def start_child_protection_plan(self, info: Info[Context, None], input: CpPlanInput) -> ChildProtectionPlan:
        work = cp_plan.start_plan(info.context, input.child_id, input.start_date, input.category.name)
        return await atomic(info, work)  # type: ignore[return-value]

    @strawberry.mutation
    async def end_child_protection_plan(
        self, info: Info[Context, None], id: strawberry.ID, end_date: date
    ) -> ChildProtectionPlan:
        return await atomic(info, cp_plan.end_plan(info.context, id, end_date))  # type: ignore[return-value]
