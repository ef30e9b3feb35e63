"""One login attempt as throttling and its audit see it: the keys it is counted against."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow

# The kinds of throttle key: the account (SHA-256 of the normalised username) and the client address.
ACCOUNT, ADDRESS = "account", "address"


class LoginLockKind(StrEnum):
    """The same kinds, as the API names them (loginLocks)."""

    ACCOUNT = ACCOUNT
    ADDRESS = ADDRESS


class AuditSink(Protocol):
    def write(self, *args: Any, **kwargs: Any) -> None: ...


def normalise_username(username: str) -> str:
    return username.strip().lower()


def account_key(username: str) -> str:
    """The throttle key of a username: its SHA-256, so a password typed into the username box
    is never stored or audited readable."""
    return hashlib.sha256(normalise_username(username).encode()).hexdigest()


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
    def of(cls, session: AsyncSession, audit: AuditSink, username: str, address: str) -> "Attempt":
        name = normalise_username(username)
        return cls(session, audit, name, {ACCOUNT: account_key(name), ADDRESS: address[:64]}, utcnow())
