"""One login attempt as throttling and its audit see it: the keys it is counted against."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from auth.login_key import LoginKey, normalise_username
from models.base import utcnow

# The kinds of throttle key: the account from one client address (a "source"), the account
# (HMAC of the normalised username), and the client address. Counted in this order.
SOURCE, ACCOUNT, ADDRESS = "source", "account", "address"
KINDS = (SOURCE, ACCOUNT, ADDRESS)

__all__ = ["ACCOUNT", "ADDRESS", "KINDS", "SOURCE", "Attempt", "AuditSink", "LoginLockKind", "normalise_username"]


class LoginLockKind(StrEnum):
    """The kinds the API lists (loginLocks); a source's lock is lifted with its account's."""

    ACCOUNT = ACCOUNT
    ADDRESS = ADDRESS


class AuditSink(Protocol):
    def write(self, *args: Any, **kwargs: Any) -> None: ...


def could_be_username(name: str) -> bool:
    """Whether a normalised name is worth looking up: short enough for the column, and without
    NUL, which PostgreSQL refuses in text."""
    return len(name) <= 100 and "\x00" not in name


@dataclass(slots=True)
class Attempt:
    session: AsyncSession
    audit: AuditSink
    name: str  # the normalised username, to be audited only if it names a user
    keys: dict[str, str]  # kind -> throttle key
    now: datetime

    @classmethod
    def of(cls, session: AsyncSession, audit: AuditSink, key: LoginKey, username: str, address: str) -> "Attempt":
        name = normalise_username(username)
        account = key.account(name)
        address = address[:64]
        keys = {SOURCE: key.source(account, address), ACCOUNT: account, ADDRESS: address}
        return cls(session, audit, name, keys, utcnow())
