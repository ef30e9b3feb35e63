from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, utcnow


class User(Base):
    """A person who logs in. Standards 4: every user has an enhanced CRB check and
    data-protection training, so both dates are required."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    crb_checked_on: Mapped[date] = mapped_column(Date)
    data_protection_trained_on: Mapped[date] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by an administrator's createUser or setPassword: the user must choose their own password
    # (changePassword) before the session may do anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RoleAssignment(Base):
    """A role held in one setting, or in all settings when setting_id is null."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("user_id", "role", "setting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    setting_id: Mapped[int | None] = mapped_column(ForeignKey("settings.id"))


class LoginSession(Base):
    """An opaque bearer token; only its SHA-256 is stored, so a database leak logs no one in.
    It ends at `expires_at` (absolute), after the idle limit without use, or when revoked."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Refreshed at most once a minute; a session unused for the idle limit ends.
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
