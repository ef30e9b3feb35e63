"""Login sessions: opaque bearer tokens stored only as their SHA-256, so a database leak logs no
one in. A session ends at its absolute expiry, after `session_idle_minutes` unused, or when
revoked; revocation takes effect on the very next request."""

import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.principal import Principal
from authz.grants import GrantBook
from config import AppConfig
from models import LoginSession, RoleAssignment, User
from models.base import utcnow

# last_seen_at is written at most this often, so idle expiry costs no write per request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


# The statement behind every authenticated request, built once (its cache key too): the session,
# its user and the user's role assignments, a row each.
PRINCIPAL = (
    select(
        LoginSession.id.label("session_id"),
        LoginSession.last_seen_at,
        User.id.label("user_id"),
        User.username,
        User.display_name,
        User.must_change_password,
        RoleAssignment.id.label("assignment_id"),
        RoleAssignment.role,
        RoleAssignment.setting_id,
    )
    .join(User, User.id == LoginSession.user_id)
    .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
    .where(
        LoginSession.token_hash == bindparam("token_hash"),
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > bindparam("now"),
        LoginSession.last_seen_at > bindparam("idle_since"),
        User.is_active,
    )
)
SESSIONS: Table = LoginSession.__table__  # type: ignore[assignment]
TOUCH = (
    SESSIONS.update()
    .where(SESSIONS.c.id == bindparam("session_id"), SESSIONS.c.last_seen_at <= bindparam("seen_before"))
    .values(last_seen_at=bindparam("now"))
)


class Refusal(StrEnum):
    """Why a bearer token names no caller: `extensions.reason` of UNAUTHENTICATED (API.md)."""

    EXPIRED = "EXPIRED"  # its lifetime or idle time ran out: log in again
    REVOKED = "REVOKED"  # logged out, password changed, sessions revoked or the user deactivated
    INVALID = "INVALID"  # no session has this token: never a token of this service


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, config: AppConfig, grant_book: GrantBook) -> None:
        self.config = config
        self.grant_book = grant_book

    async def open(self, session: AsyncSession, user_id: int) -> tuple[str, LoginSession]:
        """A new session of the user, and its token (given to the client, never stored)."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        login_session = LoginSession(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=self.config.session_hours),
        )
        session.add(login_session)
        await session.flush()
        return token, login_session

    async def revoke(self, session: AsyncSession, user_id: int, keep_session_id: int | None = None) -> int:
        """End every live session of the user (but `keep_session_id`) at once; how many."""
        statement = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        if keep_session_id is not None:
            statement = statement.where(LoginSession.id != keep_session_id)
        result = await session.execute(statement.values(revoked_at=utcnow()))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def principal_for(self, session: AsyncSession, token: str) -> Principal | None:
        """The caller behind a bearer token, or None if it is unknown, expired (absolute or
        idle), revoked, or its user deactivated."""
        now = utcnow()
        idle_since = now - timedelta(minutes=self.config.session_idle_minutes)
        params = {"token_hash": token_hash(token), "now": now, "idle_since": idle_since}
        # as Core on the session's connection: no ORM set-up for a select of columns (resolvers/reader.py)
        rows = (await (await session.connection()).execute(PRINCIPAL, params)).all()
        if not rows:
            return None
        first = rows[0]
        assignments = tuple((row.role, row.setting_id) for row in rows if row.assignment_id is not None)
        if now - first.last_seen_at >= LAST_SEEN_RESOLUTION:
            params = {"session_id": first.session_id, "seen_before": now - LAST_SEEN_RESOLUTION, "now": now}
            await session.execute(TOUCH, params)
            await session.commit()
        return Principal(
            user_id=first.user_id,
            username=first.username,
            display_name=first.display_name,
            session_id=first.session_id,
            assignments=assignments,
            grants=self.grant_book.grants_for(assignments),
            must_change_password=first.must_change_password,
        )

    async def refusal(self, session: AsyncSession, token: str) -> Refusal:
        """Why principal_for found no caller behind this token; asked only once it did not."""
        row = (
            await session.execute(
                select(LoginSession.revoked_at, LoginSession.expires_at, LoginSession.last_seen_at, User.is_active)
                .join(User, User.id == LoginSession.user_id)
                .where(LoginSession.token_hash == token_hash(token))
            )
        ).first()
        if row is None:
            return Refusal.INVALID
        if row.revoked_at is not None or not row.is_active:
            return Refusal.REVOKED
        return Refusal.EXPIRED
