"""Settings and users, administered by the eStart Administrator (standards 4)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from auth.passwords import check_new_password
from authz.categories import Action, Category
from authz.duties import SeparationOfDuties, direct_refusal
from authz.scope import require_anywhere
from errors import BadUserInput, NotFound
from models import RoleAssignment, Setting, User
from models.base import utcnow
from resolvers import validation as v
from resolvers.compliance import Compliance, compliance
from resolvers.context import Context
from resolvers.ids import decode_key
from resolvers.inputs import NewUser, RoleData
from resolvers.records import SettingRecord


@dataclass(slots=True)
class UserRecord:
    id: int
    username: str
    display_name: str
    roles: list[tuple[str, int | None]]
    status: str = "ACTIVE"  # ACTIVE, DEACTIVATED or TERMINATED
    last_login_at: datetime | None = None
    crb_checked_on: date | None = None
    data_protection_trained_on: date | None = None
    compliance: Compliance | None = field(default=None)


def status_of(user: Any) -> str:
    if user.terminated_at is not None:
        return "TERMINATED"
    return "ACTIVE" if user.is_active else "DEACTIVATED"


def as_user_record(ctx: Context, user: Any, roles: list[tuple[str, int | None]]) -> UserRecord:
    """`user`: a User or a row with its columns."""
    return UserRecord(
        user.id,
        user.username,
        user.display_name,
        roles,
        status=status_of(user),
        last_login_at=user.last_login_at,
        crb_checked_on=user.crb_checked_on,
        data_protection_trained_on=user.data_protection_trained_on,
        compliance=compliance(
            user.crb_checked_on, user.data_protection_trained_on, ctx.config.crb_renewal_years, v.today()
        ),
    )


async def user_record(ctx: Context, user_id: int) -> UserRecord:
    user = await ctx.reader.get(User, user_id)
    assert user is not None
    rows = await ctx.reader.rows(
        select(RoleAssignment.role, RoleAssignment.setting_id)
        .where(RoleAssignment.user_id == user_id)
        .order_by(RoleAssignment.id)
    )
    return as_user_record(ctx, user, [(row.role, row.setting_id) for row in rows])


async def role_set(ctx: Context, assignments: list[RoleData], field_name: str = "roles") -> set[tuple[str, int | None]]:
    """Role assignments as (role value, setting key or None) pairs; unknown settings refused."""
    if not assignments:
        raise BadUserInput("a user needs at least one role", field_name)
    roles: set[tuple[str, int | None]] = set()
    for index, assignment in enumerate(assignments):
        setting_id = assignment["setting_id"]
        setting_key = (
            None
            if setting_id is None
            else await v.existing_setting(ctx.session, setting_id, f"{field_name}[{index}].settingId")
        )
        roles.add((assignment["role"].value, setting_key))
    return roles


async def list_settings(ctx: Context) -> list[SettingRecord]:
    ctx.require_principal()
    rows = await ctx.reader.rows(select(Setting.id, Setting.code, Setting.name).order_by(Setting.code))
    return [SettingRecord(row.id, row.code, row.name) for row in rows]


async def create_setting(ctx: Context, code: str, name: str) -> SettingRecord:
    require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.WRITE)
    if not v.SETTING_CODE.fullmatch(code):
        raise BadUserInput("code must be 2 to 10 letters or digits", "code")
    code = code.upper()
    if await ctx.session.scalar(select(Setting.id).where(Setting.code == code)) is not None:
        raise BadUserInput(f"code {code} is already used", "code")
    setting = Setting(code=code, name=v.clean_text(name, "name", 200))
    ctx.session.add(setting)
    await ctx.session.flush()
    ctx.audit.write(
        "setting.create",
        "Setting",
        setting.id,
        setting_id=setting.id,
        changes={"after": {"code": code, "name": setting.name}},
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return SettingRecord(setting.id, setting.code, setting.name)


async def create_user(ctx: Context, data: NewUser, hash_password: Callable[[str], Awaitable[str]]) -> UserRecord:
    require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.WRITE)
    today = v.today()
    username = data["username"].strip().lower()
    if not v.USERNAME.fullmatch(username):
        raise BadUserInput("username must be 3 to 100 lower-case letters, digits, '.', '_' or '-'", "username")
    if await ctx.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise BadUserInput(f"username {username} is already taken", "username")
    password = data["password"]
    problem = await check_new_password(password, username, data["display_name"])
    if problem is not None:
        raise BadUserInput(problem, "password")
    roles = await role_set(ctx, data["roles"])
    refusal = direct_refusal(ctx.authenticator.sessions.grant_book, roles)
    if refusal is not None:  # authz/duties.py: no administrator gives these alone
        raise SeparationOfDuties(f"createUser cannot give these roles: {refusal} (requestUser)")
    user = User(
        username=username,
        display_name=v.clean_text(data["display_name"], "displayName", 200),
        password_hash=await hash_password(password),
        must_change_password=True,  # set by an administrator: the user chooses their own at the next login
        # Standards 4: every user has an enhanced CRB check and data-protection training.
        crb_checked_on=v.past_date(data["crb_checked_on"], "crbCheckedOn", today),
        data_protection_trained_on=v.past_date(data["data_protection_trained_on"], "dataProtectionTrainedOn", today),
        created_at=utcnow(),
    )
    ctx.session.add(user)
    await ctx.session.flush()
    ctx.session.add_all(
        RoleAssignment(user_id=user.id, role=role, setting_id=setting) for role, setting in sorted(roles, key=str)
    )
    ctx.audit.write(
        "user.create",
        "User",
        user.id,
        changes={"after": {"username": username, "roles": sorted([list(r) for r in roles], key=str)}},
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return await user_record(ctx, user.id)


async def record_compliance(
    ctx: Context, opaque_id: str, crb_checked_on: date | None, trained_on: date | None
) -> UserRecord:
    """A renewed CRB check or training, recorded by the administrator (standards 4)."""
    require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.WRITE)
    key = decode_key(opaque_id, "User")
    user = None if key is None else await ctx.session.get(User, key)
    if user is None:
        raise NotFound()
    today = v.today()
    changes: dict[str, Any] = {}
    if crb_checked_on is not None:
        new = v.past_date(crb_checked_on, "crbCheckedOn", today)
        changes["crbCheckedOn"] = {"before": user.crb_checked_on.isoformat(), "after": new.isoformat()}
        user.crb_checked_on = new
    if trained_on is not None:
        new = v.past_date(trained_on, "dataProtectionTrainedOn", today)
        changes["dataProtectionTrainedOn"] = {
            "before": user.data_protection_trained_on.isoformat(),
            "after": new.isoformat(),
        }
        user.data_protection_trained_on = new
    if changes:
        ctx.audit.write("user.compliance", "User", user.id, changes=changes)
    await ctx.session.commit()
    return await user_record(ctx, user.id)
