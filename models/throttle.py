from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime


class LoginThrottle(Base):
    """Failed-login state of one account, one account from one client address (a "source"), or
    one client address, shared by every server process.

    `kind` is 'account' (key: HMAC of the normalised username under the deployment's login key,
    so a password typed into the username box is never stored readable or reversible by a
    dictionary), 'source' (key: the account key's first half, then an HMAC of the account key and
    the address) or 'address' (key: the client address). `failures` counts attempts in the window
    that began at `window_start`; `locked_until` is set when it reaches the lock threshold, for a
    time that doubles with each consecutive lock (`lockouts`), up to a cap. `unreported` and
    `reported_at` aggregate the audit trail: failures are counted here until a `login.failed`
    event carries them, and a row is never forgotten while it has any. `user_id` is the user an
    account row is known to name (null for names no user has)."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lockouts: Mapped[int] = mapped_column(default=0)
    unreported: Mapped[int] = mapped_column(default=0)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    user_id: Mapped[int | None]


class DeploymentSecret(Base):
    """Secrets a deployment generates for itself on first use when none is configured (the login
    key, when ESTART_LOGIN_KEY is unset). Never in the repository, never in a log."""

    __tablename__ = "deployment_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
