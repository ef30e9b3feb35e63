from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime


class LoginThrottle(Base):
    """Failed-login state of one account or one client address, shared by every server process.

    `kind` is 'account' (key: SHA-256 of the normalised username, so a password typed into the
    username box is never stored readable) or 'address' (key: the client address).
    `failures` counts attempts in the window that began at `window_start`; `locked_until` is set
    when it reaches the lock threshold, for a time that doubles with each consecutive lock
    (`lockouts`). `unreported` and `reported_at` aggregate the audit trail: at most one
    `login.failed` event per row per minute, carrying the count since the last one."""

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
