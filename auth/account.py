"""Account administration (the eStart Administrator: USER_ADMIN) and self-service password
change. Every change is audited; no password or token reaches the audit trail.

Login locks of both kinds can be listed and lifted: an account's by `unlock_user`, a client
address's (an office behind one NAT may share it) by `unlock_address`.

Session revocation takes effect on the very next request: principal_for reads the session and
the user on every request. `deactivateUser` and `setPassword` end all of the user's sessions;
`changePassword` ends all of the caller's other sessions and keeps the one it was made with."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from auth.authenticator import LOCKED
from auth.client_address import canonical_address
from auth.login_attempt import ACCOUNT, ADDRESS, LoginLockKind, could_be_username, normalise_username
from auth.passwords import check_new_password
from authz.categories import Action, Category
from authz.duties import SeparationOfDuties, direct_refusal
from authz.scope import require_anywhere
from errors import BadUserInput, NotFound, ServiceError, Unauthenticated
from models import LoginSession, RoleAssignment, User
from models.base import utcnow
from resolvers import validation as v
from resolvers.compliance import COMPLIANCE_EXPIRED, compliance, refuse_if_expired
from resolvers.context import Context
from resolvers.ids import decode_key
from resolvers.transaction import secret
from resolvers.user import UserRecord, user_record


@dataclass(slots=True)
class SessionRecord:
    token: str
    expires_at: datetime
    user: UserRecord
    # An administrator set the password: until changePassword, the session may only run
    # changePassword, logout and me (anything else: FORBIDDEN, reason PASSWORD_CHANGE_REQUIRED).
    must_change_password: bool = False


async def login(ctx: Context, username: str, password: str) -> SessionRecord:
    token, login_session, account = await ctx.authenticator.login(
        ctx.session, username, password, ctx.client_address, ctx.audit
    )
    state = compliance(
        account.crb_checked_on, account.data_protection_trained_on, ctx.config.crb_renewal_years, v.today()
    )
    if state.lapsed:  # standards 4: no access past the CRB check's or the training's expiry
        account_id = account.id
        await ctx.session.rollback()  # no session opened
        ctx.audit.write(
            "login.refused",
            "User",
            account_id,
            user_id=account_id,
            changes={"reason": COMPLIANCE_EXPIRED, "lapsed": state.lapsed},
        )
        await ctx.session.commit()
        refuse_if_expired(state)
    account.last_login_at = login_session.created_at
    ctx.audit.write("session.login", "User", account.id, user_id=account.id, changes={"address": ctx.client_address})
    await ctx.session.commit()
    return SessionRecord(
        token=secret(ctx, token),
        expires_at=login_session.expires_at,
        user=await user_record(ctx, account.id),
        must_change_password=account.must_change_password,
    )


async def logout(ctx: Context) -> bool:
    principal = ctx.require_principal()
    await ctx.session.execute(
        update(LoginSession).where(LoginSession.id == principal.session_id).values(revoked_at=utcnow())
    )
    ctx.audit.write("session.logout", "User", principal.user_id)
    await ctx.session.flush()  # atomic() commits, once the response is built
    return True


@dataclass(slots=True)
class LoginLockRecord:
    kind: LoginLockKind
    key: str
    username: str | None
    failures: int
    lockouts: int
    locked_until: datetime | None
    last_failure_at: datetime


async def check_password(password: str, user: User, field: str) -> None:
    """Refuse a weak new password (auth/passwords.py), without quoting it."""
    problem = await check_new_password(password, user.username, user.display_name)
    if problem is not None:
        raise BadUserInput(problem, field)


async def _user(ctx: Context, opaque_id: str) -> User:
    key = decode_key(opaque_id, "User")
    user = None if key is None else await ctx.session.get(User, key)
    if user is None:
        raise NotFound()
    return user


async def login_locks(ctx: Context, locked_only: bool, first: int) -> list[LoginLockRecord]:
    """The login throttles holding back the next attempt, locks first. An account shows as its
    username when it names a user, else as the fingerprint the audit trail uses: only the
    username's hash is stored, and what was typed may have been a password."""
    require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.READ)
    if not 1 <= first <= ctx.config.max_page_size:
        raise BadUserInput(f"first must be between 1 and {ctx.config.max_page_size}", "first")
    rows = await ctx.reader.rows(ctx.authenticator.throttle.standing(locked_only, first))
    key = await ctx.authenticator.login_key.ready(ctx.session)
    usernames = await _usernames_by_key(ctx, key.account) if any(row.kind == ACCOUNT for row in rows) else {}
    records = [_lock_record(row, usernames.get(row.key)) for row in rows]
    ctx.audit.read(
        "login.locks_listed",
        "LoginThrottle",
        None,
        category=Category.USER_ADMIN,
        changes={"lockedOnly": locked_only, "count": len(records)},
    )
    return records


async def _usernames_by_key(ctx: Context, account_key: Callable[[str], str]) -> dict[str, str]:
    rows = await ctx.reader.rows(select(User.username))
    return {account_key(row.username): row.username for row in rows}


def _lock_record(row: Row[Any], username: str | None) -> LoginLockRecord:
    return LoginLockRecord(
        kind=LoginLockKind(row.kind),
        key=row.key if row.kind == ADDRESS else username or row.key[:16],
        username=username,
        failures=row.failures,
        lockouts=row.lockouts,
        locked_until=row.locked_until,
        last_failure_at=row.last_failure_at,
    )


async def unlock_user(ctx: Context, username: str) -> bool:
    """Lift the lock of an account from every address (and forget its failures, once they are
    in the audit trail); true if it was locked. Works for any username, existing or not, like
    the throttle itself."""
    require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.WRITE)
    account = await ctx.authenticator.account_key(ctx.session, username)
    was_locked = await ctx.authenticator.throttle.unlock(ctx.session, ctx.audit, ACCOUNT, account)
    name = normalise_username(username)
    found = await ctx.session.scalar(select(User.id).where(User.username == name)) if could_be_username(name) else None
    subject: dict[str, object] = {"account": account[:16]}
    if found is not None:
        subject["username"] = name
    ctx.audit.write(
        "user.unlock",
        "User" if found is not None else "LoginThrottle",
        found,
        changes={**subject, "wasLocked": was_locked},
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return was_locked


async def unlock_address(ctx: Context, address: str) -> bool:
    """Lift the lock of a client address (and forget its failures); true if it was locked. The
    address is read as logins record it: `2001:DB8::0:1` is `2001:db8::1`."""
    require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.WRITE)
    key = canonical_address(v.clean_text(address, "address", 64))
    was_locked = await ctx.authenticator.throttle.unlock(ctx.session, ctx.audit, ADDRESS, key)
    ctx.audit.write("address.unlock", "LoginThrottle", None, changes={"address": key, "wasLocked": was_locked})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return was_locked


async def deactivate_user(ctx: Context, opaque_id: str) -> UserRecord:
    principal = require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.WRITE)
    user = await _user(ctx, opaque_id)
    if user.id == principal.user_id:
        raise BadUserInput("you cannot deactivate your own account", "id")
    if user.is_active:
        user.is_active = False
        revoked = await ctx.authenticator.sessions.revoke(ctx.session, user.id)
        ctx.audit.write(
            "user.deactivate",
            "User",
            user.id,
            changes={"before": {"isActive": True}, "after": {"isActive": False}, "sessionsRevoked": revoked},
        )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return await user_record(ctx, user.id)


async def set_password(ctx: Context, opaque_id: str, password: str) -> bool:
    """An administrator's reset: a new password, to be changed by the user at the next login;
    every session of the user ended, any lock lifted. Not of a user whose roles no administrator
    may give alone (authz/duties.py): whoever sets their password could log in as them, so theirs
    is reset by requestPasswordReset."""
    require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.WRITE)
    user = await _user(ctx, opaque_id)
    roles = await ctx.session.execute(
        select(RoleAssignment.role, RoleAssignment.setting_id).where(RoleAssignment.user_id == user.id)
    )
    if direct_refusal(ctx.authenticator.sessions.grant_book, [(row.role, row.setting_id) for row in roles]):
        raise SeparationOfDuties("This user's password is reset only by requestPasswordReset (two people)")
    await check_password(password, user, "password")
    user.password_hash = await ctx.authenticator.hash_password(password)
    user.must_change_password = True
    revoked = await ctx.authenticator.sessions.revoke(ctx.session, user.id)
    account = await ctx.authenticator.account_key(ctx.session, user.username)
    await ctx.authenticator.throttle.unlock(ctx.session, ctx.audit, ACCOUNT, account)
    ctx.audit.write("user.password_reset", "User", user.id, changes={"sessionsRevoked": revoked})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return True


def one_time_password() -> str:
    """A password the service chooses: 20 characters, 120 bits."""
    return secrets.token_urlsafe(15)


async def issue_one_time_password(ctx: Context, user: User) -> str:
    """The one place the service gives a user a password of its choosing (an approved new user
    or password reset): it replaces the password, ends every session and lifts any lock, and
    returns the password, for the administrator to pass on. It must be changed at first login
    (the must-change flag is set here). The caller audits and commits."""
    password = secret(ctx, one_time_password())
    user.password_hash = await ctx.authenticator.hash_password(password)
    user.must_change_password = True
    await ctx.authenticator.sessions.revoke(ctx.session, user.id)
    account = await ctx.authenticator.account_key(ctx.session, user.username)
    await ctx.authenticator.throttle.unlock(ctx.session, ctx.audit, ACCOUNT, account)
    return password


async def change_password(ctx: Context, current_password: str, new_password: str) -> bool:
    """The caller's own password. The current one is checked through the login throttle, so a
    borrowed session cannot be used to guess it; the caller's other sessions end, this one stays."""
    principal = ctx.require_principal()
    if new_password == current_password:
        raise BadUserInput("the new password must differ from the current one", "newPassword")
    own = await ctx.session.get(User, principal.user_id)
    if own is None:  # cannot happen: principal_for reads the user
        raise ServiceError("Internal error")
    await check_password(new_password, own, "newPassword")
    try:
        user = await ctx.authenticator.authenticate(
            ctx.session, principal.username, current_password, ctx.client_address, ctx.audit
        )
    except Unauthenticated as error:
        if str(error) == LOCKED:
            raise
        raise BadUserInput("the current password is not correct", "currentPassword") from None
    if user.id != principal.user_id:  # cannot happen: usernames are unique
        raise ServiceError("Internal error")
    user.password_hash = await ctx.authenticator.hash_password(new_password)
    user.must_change_password = False
    revoked = await ctx.authenticator.sessions.revoke(ctx.session, user.id, keep_session_id=principal.session_id)
    ctx.audit.write("user.password_change", "User", user.id, changes={"sessionsRevoked": revoked})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return True
