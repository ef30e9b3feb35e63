"""The deployment's login key: throttle keys and audit fingerprints of usernames, and the
fingerprints of requests sent with an Idempotency-Key, are HMAC-SHA-256 under it, so what was
typed into the username box or sent as a variable (perhaps a password) cannot be recovered from
the database or the audit trail by hashing a dictionary.

The key is ESTART_LOGIN_KEY when set (the same in every process; best, as then a copy of the
database alone does not hold it). Otherwise a random key is generated and stored in
`deployment_secrets` on first use; every process reads the same row. No key is in the repository.
Changing the key forgets the current account throttles (they no longer match) and changes the
fingerprints of names no user has in later audit events.
"""

import asyncio
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeploymentSecret

LOGIN_KEY = "login_key"


def normalise_username(username: str) -> str:
    return username.strip().lower()


class LoginKey:
    def __init__(self, configured: str) -> None:
        self._key: bytes | None = configured.encode() if configured else None
        self._loading = asyncio.Lock()

    async def ready(self, session: AsyncSession) -> "LoginKey":
        """This key, read (or generated and stored) on first use when none is configured."""
        if self._key is None:
            async with self._loading:
                if self._key is None:
                    self._key = (await _stored_key(session)).encode()
        return self

    def account(self, username: str) -> str:
        """The throttle key of a username (64 hex digits); its first 16 are the audit fingerprint."""
        return self._mac("account", normalise_username(username))

    def source(self, account_key: str, address: str) -> str:
        """The throttle key of one account from one address: the account key's first half (so an
        account's sources can be found and lifted with it), then the pair's own MAC."""
        return account_key[:32] + self._mac("source", f"{account_key}\x00{address}")[:32]

    def request(self, digest: str) -> str:
        """The stored fingerprint of a request sent with an Idempotency-Key: keyed, because the
        request's variables may hold a password (createUser, setPassword, changePassword)."""
        return self._mac("request", digest)

    def _mac(self, purpose: str, value: str) -> str:
        if self._key is None:
            raise RuntimeError("the login key is used before it was read")
        return hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


async def _stored_key(session: AsyncSession) -> str:
    table = DeploymentSecret.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(table).values(name=LOGIN_KEY, value=secrets.token_hex(32)).on_conflict_do_nothing()
    )
    value = await session.scalar(select(DeploymentSecret.value).where(DeploymentSecret.name == LOGIN_KEY))
    await session.commit()  # every process must see the same key at once
    if value is None:  # cannot happen: inserted or already there
        raise RuntimeError("the login key could not be stored")
    return value
