"""Authentication: a login passes the throttle, its password is checked, a session is opened.

The parts live in their own modules: passwords (argon2id, off the event loop), throttle (counts
and locks per account and client address) with login_audit (its flood-proof audit trail),
sessions (opaque tokens, expiry, the principal behind a token) and client_address.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.client_address import ClientAddresses
from auth.login_attempt import Attempt, AuditSink, could_be_username
from auth.login_key import LoginKey
from auth.passwords import Passwords
from auth.principal import Principal
from auth.sessions import Refusal, Sessions
from auth.throttle import Throttle
from authz.grants import GrantBook
from config import AppConfig
from errors import Unauthenticated
from models import LoginSession, User

BAD_LOGIN = "Invalid username or password"
LOCKED = "Too many failed attempts; try again later"


class Authenticator:
    def __init__(self, config: AppConfig, grant_book: GrantBook) -> None:
        self.passwords = Passwords(config)
        self.throttle = Throttle(config)
        self.login_key = LoginKey(config.login_key)
        self.sessions = Sessions(config, grant_book)
        self.addresses = ClientAddresses(config.trusted_proxies)
        # The throttle's waits; tests replace it to record them instead of sleeping.
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    async def login(
        self, session: AsyncSession, username: str, password: str, address: str, audit: AuditSink
    ) -> tuple[str, LoginSession, User]:
        user = await self.authenticate(session, username, password, address, audit)
        if self.passwords.needs_rehash(user.password_hash):
            user.password_hash = await self.passwords.hash(password)
        token, login_session = await self.sessions.open(session, user.id)
        return token, login_session, user

    async def authenticate(
        self, session: AsyncSession, username: str, password: str, address: str, audit: AuditSink
    ) -> User:
        """The active user with this username and password, through the throttle; raises
        Unauthenticated(BAD_LOGIN) or Unauthenticated(LOCKED). Failures are committed before
        raising (the caller rolls back), so they count whatever the caller does next."""
        key = await self.login_key.ready(session)
        attempt = Attempt.of(session, audit, key, username, address)
        counted = await self.throttle.admit(attempt)
        await session.commit()  # other processes see this attempt before the password is checked
        if counted is None:
            raise Unauthenticated(LOCKED)
        delay = self.throttle.delay(counted)
        if delay > 0:
            await self.sleep(delay)

        name = attempt.name
        user = await session.scalar(select(User).where(User.username == name)) if could_be_username(name) else None
        await session.commit()  # no connection is held while the password waits for a CPU
        verified = await self.passwords.verify(None if user is None else user.password_hash, password)
        if user is None or not verified or not user.is_active:
            await self.throttle.record_failure(attempt, counted, None if user is None else user.id)
            await session.commit()
            raise Unauthenticated(BAD_LOGIN)
        await self.throttle.record_success(attempt, user.id)
        return user

    # --- what the server and the account resolvers ask of authentication --------------------

    def client_address(self, peer: str | None, forwarded_for: str | None) -> str:
        return self.addresses.of(peer, forwarded_for)

    async def principal_for(self, session: AsyncSession, token: str) -> Principal | None:
        return await self.sessions.principal_for(session, token)

    async def refusal(self, session: AsyncSession, token: str) -> Refusal:
        return await self.sessions.refusal(session, token)

    async def hash_password(self, password: str) -> str:
        return await self.passwords.hash(password)

    async def account_key(self, session: AsyncSession, username: str) -> str:
        """The throttle key of a username (its first 16 hex digits: the audit fingerprint)."""
        return (await self.login_key.ready(session)).account(username)
