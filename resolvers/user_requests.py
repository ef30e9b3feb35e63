"""User accounts as the standards run them (standards 4, 15, 16): a setting manager asks, the
eStart Administrator approves or rejects, within a deadline of working days.

A request is signed by whoever holds USER_REQUEST (the policy: a manager in the settings where
they hold the role; senior management anywhere) in every setting the request touches: the
settings of the roles asked for, and for an existing user the settings of the roles they hold
(a role in all settings needs the right everywhere). It is decided by an administrator
(USER_ADMIN) who is neither the requester nor the user it is about; requests giving a role in
all settings or an administrative right, and password resets of users holding one, need a second,
different administrator (authz/duties.py). Approval carries the request out in the same
transaction: a new user or a reset password gets a one-time password (auth.account), shown
once, in the approval's answer, and never stored; a termination ends every session at once.

Deadlines (working days, the day of the request being day 0, resolvers/working_days.py): a new
user 5, a change of roles or a password reset 3 (standards 15: changes to rights within 3),
a termination 0, that is the same day (the standards ask for no delay in ending access).
A request is `late` when it is decided after its deadline, or is still outstanding after it.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update

from auth.account import issue_one_time_password
from authz.categories import Action, Category
from authz.duties import SeparationOfDuties, approvals_needed, is_wide, reaches_every_setting
from authz.scope import require, require_anywhere
from errors import BadUserInput, Conflict, Forbidden, NotFound
from models import RoleAssignment, User, UserRequest
from models.base import utcnow
from resolvers import validation as v
from resolvers.compliance import compliance
from resolvers.context import Context
from resolvers.form import calendar_for
from resolvers.ids import decode_key
from resolvers.inputs import NewUserRequest, RoleData
from resolvers.user import role_set

Roles = set[tuple[str, int | None]]


class Kind(StrEnum):
    NEW_USER = "NEW_USER"
    ROLE_CHANGE = "ROLE_CHANGE"
    PASSWORD_RESET = "PASSWORD_RESET"
    TERMINATION = "TERMINATION"


class Status(StrEnum):
    PENDING = "PENDING"
    AWAITING_SECOND_APPROVAL = "AWAITING_SECOND_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


OUTSTANDING = (Status.PENDING, Status.AWAITING_SECOND_APPROVAL)

WORKING_DAYS = {Kind.NEW_USER: 5, Kind.ROLE_CHANGE: 3, Kind.PASSWORD_RESET: 3, Kind.TERMINATION: 0}


@dataclass(slots=True)
class UserRequestRecord:
    id: int
    kind: Kind
    status: Status
    requested_by_id: int
    requested_at: datetime
    deadline: date
    late: bool
    outstanding: bool
    approvals_needed: int
    user_id: int | None
    first_approved_by_id: int | None
    first_approved_at: datetime | None
    decided_by_id: int | None
    decided_at: datetime | None
    decision_reason: str | None
    username: str | None
    display_name: str | None
    reason: str | None
    roles: list[tuple[str, int | None]] | None
    one_time_password: str | None = None


def local_day(moment: datetime) -> date:
    return moment.astimezone(v.LONDON).date()


def record_of(row: UserRequest, today: date, one_time_password: str | None = None) -> UserRequestRecord:
    status = Status(row.status)
    outstanding = status in OUTSTANDING
    decided_on = None if row.decided_at is None else local_day(row.decided_at)
    details = row.details or {}
    roles = details.get("roles")
    return UserRequestRecord(
        id=row.id,
        kind=Kind(row.kind),
        status=status,
        requested_by_id=row.requested_by_id,
        requested_at=row.requested_at,
        deadline=row.deadline,
        late=(today if outstanding or decided_on is None else decided_on) > row.deadline,
        outstanding=outstanding,
        approvals_needed=row.approvals_needed,
        user_id=row.user_id,
        first_approved_by_id=row.first_approved_by_id,
        first_approved_at=row.first_approved_at,
        decided_by_id=row.decided_by_id,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
        username=details.get("username"),
        display_name=details.get("displayName"),
        reason=details.get("reason"),
        roles=None if roles is None else [(role, setting) for role, setting in roles],
        one_time_password=one_time_password,
    )


# --- asking -------------------------------------------------------------------------------------


def _require_request_right(ctx: Context, roles: Roles) -> None:
    """USER_REQUEST in every setting of `roles`; everywhere for a role in all settings or one
    whose rights reach every setting wherever it is held (authz/duties.py)."""
    principal = require_anywhere(ctx.require_principal(), Category.USER_REQUEST, Action.WRITE)
    book = ctx.authenticator.sessions.grant_book
    for role, setting in roles:
        if setting is None or reaches_every_setting(book, [(role, setting)]):
            if principal.grants.settings_for(Category.USER_REQUEST, Action.WRITE) is not None:
                raise Forbidden(Category.USER_REQUEST.name, "Only who may ask in every setting asks for this role")
        else:
            require(principal, Category.USER_REQUEST, Action.WRITE, [setting])


async def _current_roles(ctx: Context, user_id: int) -> Roles:
    rows = await ctx.session.execute(
        select(RoleAssignment.role, RoleAssignment.setting_id).where(RoleAssignment.user_id == user_id)
    )
    return {(row.role, row.setting_id) for row in rows}


async def _subject(ctx: Context, opaque_id: str) -> tuple[User, Roles]:
    """The existing, not terminated user a request is about, once the caller may ask for it.
    A user outside the caller's settings looks absent (NOT_FOUND), like an id naming nobody."""
    require_anywhere(ctx.require_principal(), Category.USER_REQUEST, Action.WRITE)
    key = decode_key(opaque_id, "User")
    user = None if key is None else await ctx.session.get(User, key)
    if user is None:
        raise NotFound()
    roles = await _current_roles(ctx, user.id)
    try:
        # A user with no role at all is asked for only by who may ask everywhere.
        _require_request_right(ctx, roles or {("", None)})
    except Forbidden:
        raise NotFound() from None
    if user.terminated_at is not None:
        raise BadUserInput("this user's account is terminated", "userId")
    return user, roles


async def _file(
    ctx: Context, kind: Kind, details: dict[str, Any], needed: int, user_id: int | None = None
) -> UserRequestRecord:
    principal = ctx.require_principal()
    now = utcnow()
    deadline = calendar_for(ctx.config.closure_days).add_working_days(local_day(now), WORKING_DAYS[kind])
    row = UserRequest(
        kind=kind.value,
        status=Status.PENDING.value,
        requested_by_id=principal.user_id,
        requested_at=now,
        deadline=deadline,
        user_id=user_id,
        details=details,
        approvals_needed=needed,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    ctx.audit.write(
        "user_request.file",
        "UserRequest",
        row.id,
        changes={"kind": kind.value, "userId": user_id, "deadline": deadline.isoformat(), **_audited(details)},
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return record_of(row, v.today())


def _audited(details: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in details.items() if key in {"username", "roles", "reason"}}


def _plain_roles(roles: Roles) -> list[list[Any]]:
    return sorted(([role, setting] for role, setting in roles), key=str)


def clean_username(value: str) -> str:
    username = value.strip().lower()
    if not v.USERNAME.fullmatch(username):
        raise BadUserInput("username must be 3 to 100 lower-case letters, digits, '.', '_' or '-'", "username")
    return username


async def _username_free(ctx: Context, username: str, request_id: int | None = None) -> None:
    if await ctx.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise BadUserInput(f"username {username} is already taken", "username")
    pending = await ctx.session.scalars(
        select(UserRequest).where(
            UserRequest.kind == Kind.NEW_USER.value, UserRequest.status.in_([s.value for s in OUTSTANDING])
        )
    )
    if any(row.details.get("username") == username and row.id != request_id for row in pending):
        raise BadUserInput(f"username {username} is already asked for", "username")


async def request_user(ctx: Context, data: NewUserRequest) -> UserRequestRecord:
    """A User Request Form: a new user for the requester's settings (standards 4)."""
    require_anywhere(ctx.require_principal(), Category.USER_REQUEST, Action.WRITE)
    today = v.today()
    roles = await role_set(ctx, data["roles"], "roles")
    _require_request_right(ctx, roles)
    username = clean_username(data["username"])
    await _username_free(ctx, username)
    crb = v.past_date(data["crb_checked_on"], "crbCheckedOn", today)
    trained = v.past_date(data["data_protection_trained_on"], "dataProtectionTrainedOn", today)
    lapsed = compliance(crb, trained, ctx.config.crb_renewal_years, today).lapsed
    if lapsed:
        field = "crbCheckedOn" if "CRB_CHECK" in lapsed else "dataProtectionTrainedOn"
        raise BadUserInput(f"{', '.join(lapsed)} already expired: renew before asking", field)
    details = {
        "username": username,
        "displayName": v.clean_text(data["display_name"], "displayName", 200),
        "crbCheckedOn": crb.isoformat(),
        "dataProtectionTrainedOn": trained.isoformat(),
        "roles": _plain_roles(roles),
    }
    return await _file(ctx, Kind.NEW_USER, details, approvals_needed(ctx.authenticator.sessions.grant_book, roles))


async def request_role_change(ctx: Context, user_id: str, role_inputs: list[RoleData]) -> UserRequestRecord:
    """The user's roles, replaced by `roles` (standards 15: changes to rights)."""
    user, current = await _subject(ctx, user_id)
    roles = await role_set(ctx, role_inputs, "roles")
    _require_request_right(ctx, roles)
    book = ctx.authenticator.sessions.grant_book
    details = {"roles": _plain_roles(roles), "before": _plain_roles(current)}
    return await _file(ctx, Kind.ROLE_CHANGE, details, approvals_needed(book, roles), user.id)


async def request_password_reset(ctx: Context, user_id: str) -> UserRequestRecord:
    """Standards 4: a password is reset only at the setting manager's request."""
    user, current = await _subject(ctx, user_id)
    # Whoever approves sees the one-time password: for a wide user, two administrators.
    needed = 2 if is_wide(ctx.authenticator.sessions.grant_book, current) else 1
    return await _file(ctx, Kind.PASSWORD_RESET, {}, needed, user.id)


async def request_termination(ctx: Context, user_id: str, reason: str) -> UserRequestRecord:
    """A User Termination Form (standards 16)."""
    user, _ = await _subject(ctx, user_id)
    details = {"reason": v.clean_text(reason, "reason", 1000)}
    return await _file(ctx, Kind.TERMINATION, details, 1, user.id)


# --- deciding -----------------------------------------------------------------------------------


async def _outstanding(ctx: Context, opaque_id: str) -> UserRequest:
    key = decode_key(opaque_id, "UserRequest")
    row = None if key is None else await ctx.session.get(UserRequest, key)
    if row is None:
        raise NotFound()
    if row.status not in {s.value for s in OUTSTANDING}:
        raise Conflict(f"this request is already {row.status}")
    return row


async def _move(ctx: Context, row: UserRequest, values: dict[str, Any]) -> None:
    """Change the request's status only if no one decided it meanwhile (CONFLICT otherwise)."""
    result = await ctx.session.execute(
        update(UserRequest)
        .where(UserRequest.id == row.id, UserRequest.status == row.status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this request was decided meanwhile")
    await ctx.session.refresh(row)


async def approve(ctx: Context, opaque_id: str) -> UserRequestRecord:
    principal = require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.WRITE)
    row = await _outstanding(ctx, opaque_id)
    if row.requested_by_id == principal.user_id:
        raise SeparationOfDuties("Nobody approves their own request")
    if row.user_id == principal.user_id:
        raise SeparationOfDuties("Nobody approves a request about themselves")
    if row.first_approved_by_id == principal.user_id:
        raise SeparationOfDuties("This request needs a second, different administrator")
    now = utcnow()
    if row.approvals_needed > 1 and row.status == Status.PENDING.value:
        await _move(
            ctx,
            row,
            {
                "status": Status.AWAITING_SECOND_APPROVAL.value,
                "first_approved_by_id": principal.user_id,
                "first_approved_at": now,
            },
        )
        ctx.audit.write("user_request.first_approval", "UserRequest", row.id, changes={"kind": row.kind})
        await ctx.session.flush()  # atomic() commits, once the response is built
        return record_of(row, v.today())
    await _move(ctx, row, {"status": Status.APPROVED.value, "decided_by_id": principal.user_id, "decided_at": now})
    password = await _carry_out(ctx, row)
    ctx.audit.write("user_request.approve", "UserRequest", row.id, changes={"kind": row.kind, "userId": row.user_id})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return record_of(row, v.today(), password)


async def reject(ctx: Context, opaque_id: str, reason: str) -> UserRequestRecord:
    principal = require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.WRITE)
    reason = v.clean_text(reason, "reason", 1000)
    row = await _outstanding(ctx, opaque_id)
    values = {
        "status": Status.REJECTED.value,
        "decided_by_id": principal.user_id,
        "decided_at": utcnow(),
        "decision_reason": reason,
    }
    await _move(ctx, row, values)
    ctx.audit.write("user_request.reject", "UserRequest", row.id, changes={"kind": row.kind, "reason": reason})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return record_of(row, v.today())


async def _target(ctx: Context, row: UserRequest) -> User:
    assert row.user_id is not None
    user = await ctx.session.get(User, row.user_id)
    assert user is not None  # foreign key
    if user.terminated_at is not None:
        raise Conflict("this user's account was terminated meanwhile")
    return user


async def _carry_out(ctx: Context, row: UserRequest) -> str | None:
    """Do what the request asked; the one-time password it issued, if any."""
    details = row.details
    marker = {"request": row.id}
    if row.kind == Kind.NEW_USER.value:
        await _username_free(ctx, details["username"], row.id)
        user = User(
            username=details["username"],
            display_name=details["displayName"],
            password_hash="!",  # replaced at once by the one-time password
            crb_checked_on=date.fromisoformat(details["crbCheckedOn"]),
            data_protection_trained_on=date.fromisoformat(details["dataProtectionTrainedOn"]),
            created_at=utcnow(),
        )
        ctx.session.add(user)
        await ctx.session.flush()
        password = await issue_one_time_password(ctx, user)
        ctx.session.add_all(
            RoleAssignment(user_id=user.id, role=role, setting_id=setting) for role, setting in details["roles"]
        )
        row.user_id = user.id
        after = {"username": user.username, "roles": details["roles"]}
        ctx.audit.write("user.create", "User", user.id, changes={"after": after, **marker})
        return password
    user = await _target(ctx, row)
    if row.kind == Kind.PASSWORD_RESET.value:
        password = await issue_one_time_password(ctx, user)
        ctx.audit.write("user.password_reset", "User", user.id, changes=marker)
        return password
    if row.kind == Kind.ROLE_CHANGE.value:
        before = _plain_roles(await _current_roles(ctx, user.id))
        await ctx.session.execute(delete(RoleAssignment).where(RoleAssignment.user_id == user.id))
        ctx.session.add_all(
            RoleAssignment(user_id=user.id, role=role, setting_id=setting) for role, setting in details["roles"]
        )
        changes = {"roles": {"before": before, "after": details["roles"]}, **marker}
        ctx.audit.write("user.roles_change", "User", user.id, changes=changes)
        return None
    # TERMINATION: inactive for good, every session ended now; the row and its authorship stay.
    user.is_active = False
    user.terminated_at = utcnow()
    revoked = await ctx.authenticator.sessions.revoke(ctx.session, user.id)
    changes = {"reason": details["reason"], "sessionsRevoked": revoked, **marker}
    ctx.audit.write("user.terminate", "User", user.id, changes=changes)
    return None


# --- listing ------------------------------------------------------------------------------------


async def list_requests(ctx: Context, status: Status | None, first: int, after: str | None) -> list[UserRequestRecord]:
    """Oldest first. The administrator sees every request; who may ask sees the ones they filed."""
    principal = ctx.require_principal()
    if not 1 <= first <= ctx.config.max_page_size:
        raise BadUserInput(f"first must be between 1 and {ctx.config.max_page_size}", "first")
    conditions = []
    administrator = principal.grants.allows_anywhere(Category.USER_ADMIN, Action.READ)
    if not administrator:
        require_anywhere(principal, Category.USER_REQUEST, Action.WRITE)
        conditions.append(UserRequest.requested_by_id == principal.user_id)
    if status is not None:
        conditions.append(UserRequest.status == status.value)
    if after is not None:
        position = decode_key(after, "UserRequest")
        if position is None:
            raise BadUserInput("after is not the id of a request", "after")
        conditions.append(UserRequest.id > position)
    rows = await ctx.session.scalars(select(UserRequest).where(*conditions).order_by(UserRequest.id).limit(first))
    today = v.today()
    records = [record_of(row, today) for row in rows]
    ctx.audit.read(
        "user_request.listed",
        "UserRequest",
        None,
        category=Category.USER_ADMIN if administrator else Category.USER_REQUEST,
        changes={"status": None if status is None else status.value, "count": len(records)},
    )
    return records


@dataclass(slots=True)
class RequestReport:
    outstanding: int
    late: int
    awaiting_second_approval: int
    requests: list[UserRequestRecord]


async def outstanding_report(ctx: Context) -> RequestReport:
    """The administrator's worklist: every outstanding request, earliest deadline first."""
    require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.READ)
    rows = await ctx.session.scalars(
        select(UserRequest)
        .where(UserRequest.status.in_([s.value for s in OUTSTANDING]))
        .order_by(UserRequest.deadline, UserRequest.id)
    )
    today = v.today()
    records = [record_of(row, today) for row in rows]
    ctx.audit.read(
        "user_request.report", "UserRequest", None, category=Category.USER_ADMIN, changes={"count": len(records)}
    )
    return RequestReport(
        outstanding=len(records),
        late=sum(record.late for record in records),
        awaiting_second_approval=sum(record.status == Status.AWAITING_SECOND_APPROVAL for record in records),
        requests=records,
    )
