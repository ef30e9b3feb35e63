"""Account administration (the eStart Administrator: USER_ADMIN write) and self-service
password change. Every change is audited; no password or token reaches the audit trail.

Session revocation takes effect on the very next request: principal_for reads the session and
the user on every request. `deactivateUser` and `setPassword` end all of the user's sessions;
`changePassword` ends all of the caller's other sessions and keeps the one it was made with."""

from sqlalchemy import select

from authz.categories import Action, Category
from models import User
from resolvers.auth import LOCKED, account_key, normalise_username
from resolvers.context import Context
from resolvers.errors import BadUserInput, NotFound, ServiceError, Unauthenticated
from resolvers.ids import decode_key
from resolvers.rights import require_anywhere
from resolvers.user import PASSWORD_LENGTH, UserRecord, user_record


def check_password_length(password: str, field: str) -> None:
    if not PASSWORD_LENGTH[0] <= len(password) <= PASSWORD_LENGTH[1]:
        raise BadUserInput(f"password must be {PASSWORD_LENGTH[0]} to {PASSWORD_LENGTH[1]} characters", field)


async def _user(ctx: Context, opaque_id: str) -> User:
    key = decode_key(opaque_id, "User")
    user = None if key is None else await ctx.session.get(User, key)
    if user is None:
        raise NotFound()
    return user


async def unlock_user(ctx: Context, username: str) -> bool:
    """Lift the lock of an account (and forget its failures); true if it was locked. Works for
    any username, existing or not, like the throttle itself."""
    require_anywhere(ctx, Category.USER_ADMIN, Action.WRITE)
    was_locked = await ctx.authenticator.unlock_account(ctx.session, username)
    name = normalise_username(username)
    user_id = await ctx.session.scalar(select(User.id).where(User.username == name)) if len(name) <= 100 else None
    subject: dict[str, object] = {"account": account_key(name)[:16]}
    if user_id is not None:
        subject["username"] = name
    ctx.audit.write(
        "user.unlock",
        "User" if user_id is not None else "LoginThrottle",
        user_id,
        changes={**subject, "wasLocked": was_locked},
    )
    await ctx.session.commit()
    return was_locked


async def deactivate_user(ctx: Context, opaque_id: str) -> UserRecord:
    principal = require_anywhere(ctx, Category.USER_ADMIN, Action.WRITE)
    user = await _user(ctx, opaque_id)
    if user.id == principal.user_id:
        raise BadUserInput("you cannot deactivate your own account", "id")
    if user.is_active:
        user.is_active = False
        revoked = await ctx.authenticator.revoke_sessions(ctx.session, user.id)
        ctx.audit.write(
            "user.deactivate",
            "User",
            user.id,
            changes={"before": {"isActive": True}, "after": {"isActive": False}, "sessionsRevoked": revoked},
        )
    await ctx.session.commit()
    return await user_record(ctx, user.id)


async def set_password(ctx: Context, opaque_id: str, password: str) -> bool:
    """An administrator's reset: a new password, every session of the user ended, any lock lifted."""
    require_anywhere(ctx, Category.USER_ADMIN, Action.WRITE)
    check_password_length(password, "password")
    user = await _user(ctx, opaque_id)
    user.password_hash = ctx.authenticator.hash_password(password)
    revoked = await ctx.authenticator.revoke_sessions(ctx.session, user.id)
    await ctx.authenticator.unlock_account(ctx.session, user.username)
    ctx.audit.write("user.password_reset", "User", user.id, changes={"sessionsRevoked": revoked})
    await ctx.session.commit()
    return True


async def change_password(ctx: Context, current_password: str, new_password: str) -> bool:
    """The caller's own password. The current one is checked through the login throttle, so a
    borrowed session cannot be used to guess it; the caller's other sessions end, this one stays."""
    principal = ctx.require_principal()
    check_password_length(new_password, "newPassword")
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
    user.password_hash = ctx.authenticator.hash_password(new_password)
    revoked = await ctx.authenticator.revoke_sessions(ctx.session, user.id, keep_session_id=principal.session_id)
    ctx.audit.write("user.password_change", "User", user.id, changes={"sessionsRevoked": revoked})
    await ctx.session.commit()
    return True
