"""Passwords (argon2id), opaque session tokens stored only as SHA-256, and authentication."""

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from authz.grants import GrantBook
from config import AppConfig
from models import LoginSession, RoleAssignment, User
from models.base import utcnow
from resolvers.errors import Unauthenticated
from resolvers.principal import Principal

BAD_LOGIN = "Invalid username or password"


def password_hasher(config: AppConfig) -> PasswordHasher:
    return PasswordHasher(
        time_cost=config.argon2_time_cost,
        memory_cost=config.argon2_memory_kib,
        parallelism=config.argon2_parallelism,
        type=Type.ID,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator:
    def __init__(self, config: AppConfig, grant_book: GrantBook) -> None:
        self.config = config
        self.hasher = password_hasher(config)
        self.grant_book = grant_book
        # Verifying against a real hash for unknown users keeps both failures equally slow.
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    def hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    async def login(self, session: AsyncSession, username: str, password: str) -> tuple[str, LoginSession, User]:
        user = await session.scalar(select(User).where(User.username == username.strip().lower()))
        if not self._verify(user.password_hash if user else self._dummy_hash, password) or user is None:
            raise Unauthenticated(BAD_LOGIN)
        if not user.is_active:
            raise Unauthenticated(BAD_LOGIN)
        if self.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)
        token = secrets.token_urlsafe(32)
        now = utcnow()
        login_session = LoginSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=self.config.session_hours),
        )
        session.add(login_session)
        await session.flush()
        return token, login_session, user

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def principal_for(self, session: AsyncSession, token: str) -> Principal | None:
        """The caller behind a bearer token, or None if it is unknown, expired or revoked."""
        row = (
            await session.execute(
                select(LoginSession.id, User.id, User.username, User.display_name)
                .join(User, User.id == LoginSession.user_id)
                .where(
                    LoginSession.token_hash == token_hash(token),
                    LoginSession.revoked_at.is_(None),
                    LoginSession.expires_at > utcnow(),
                    User.is_active,
                )
            )
        ).first()
        if row is None:
            return None
        session_id, user_id, username, display_name = row
        assignments = tuple(
            (role, setting_id)
            for role, setting_id in (
                await session.execute(
                    select(RoleAssignment.role, RoleAssignment.setting_id).where(RoleAssignment.user_id == user_id)
                )
            ).all()
        )
        return Principal(
            user_id=user_id,
            username=username,
            display_name=display_name,
            session_id=session_id,
            assignments=assignments,
            grants=self.grant_book.grants_for(assignments),
        )
