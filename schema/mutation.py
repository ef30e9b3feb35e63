from dataclasses import asdict
from datetime import date

import strawberry
from strawberry.types import Info

from resolvers import affiliation, cp_plan, family, note, user
from resolvers.context import Context
from resolvers.errors import Unauthenticated
from schema.affiliation import Affiliation, AffiliationInput
from schema.cp_plan import ChildProtectionPlan, CpPlanInput
from schema.family import Family, RegisterFamilyInput, UpdateFamilyInput
from schema.note import Note, NoteInput
from schema.setting import Setting
from schema.user import Session, SettingInput, User, UserInput
from sqlalchemy import update
from models import LoginSession
from models.base import utcnow


def _plain(value: object) -> object:
    """An input object as plain dicts, lists and enum values, for the resolvers."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(v) for k, v in vars(value).items() if v is not strawberry.UNSET}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and hasattr(value, "name"):
        return value.name  # enums travel by name, which is what the database stores
    return value


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def login(self, info: Info[Context, None], username: str, password: str) -> Session:
        ctx = info.context
        token, login_session, account = await ctx.authenticator.login(ctx.session, username, password)
        ctx.audit.write("session.login", "User", account.id)
        await ctx.session.commit()
        return Session(token=token, expires_at=login_session.expires_at, user=await user.user_record(ctx, account.id))  # type: ignore[arg-type]

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
        return await user.create_setting(info.context, input.code, input.name)  # type: ignore[return-value]

    @strawberry.mutation
    async def create_user(self, info: Info[Context, None], input: UserInput) -> User:
        data = _plain(input)
        return await user.create_user(info.context, data, info.context.authenticator.hash_password)  # type: ignore[arg-type,return-value]

    @strawberry.mutation
    async def register_family(self, info: Info[Context, None], input: RegisterFamilyInput) -> Family:
        data = _plain(input)
        for person in data["carers"]:  # type: ignore[index]
            person["relationship"] = person.pop("relationship_to_children", None)
        return await family.register_family(info.context, data)  # type: ignore[arg-type,return-value]

    @strawberry.mutation
    async def update_family(
        self, info: Info[Context, None], id: strawberry.ID, expected_version: int, input: UpdateFamilyInput
    ) -> Family:
        return await family.update_family(info.context, id, expected_version, _plain(input))  # type: ignore[arg-type,return-value]

    @strawberry.mutation
    async def add_note(self, info: Info[Context, None], input: NoteInput) -> Note:
        return await note.add_note(info.context, input.subject_id, input.kind.name, input.text)  # type: ignore[return-value]

    @strawberry.mutation
    async def affiliate(self, info: Info[Context, None], input: AffiliationInput) -> Affiliation:
        return await affiliation.affiliate(  # type: ignore[return-value]
            info.context, input.family_id, input.setting_id, input.consent_given_by, input.consent_date
        )

    @strawberry.mutation
    async def revoke_affiliation(self, info: Info[Context, None], id: strawberry.ID) -> Affiliation:
        return await affiliation.revoke_affiliation(info.context, id)  # type: ignore[return-value]

    @strawberry.mutation
    async def start_child_protection_plan(self, info: Info[Context, None], input: CpPlanInput) -> ChildProtectionPlan:
        return await cp_plan.start_plan(info.context, input.child_id, input.start_date, input.category.name)  # type: ignore[return-value]

    @strawberry.mutation
    async def end_child_protection_plan(self, info: Info[Context, None], id: strawberry.ID, end_date: date) -> ChildProtectionPlan:
        return await cp_plan.end_plan(info.context, id, end_date)  # type: ignore[return-value]


__all__ = ["Mutation", "Unauthenticated", "asdict"]
