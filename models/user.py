from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, false
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
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A User Termination Form (standards 16) approved: inactive for good. The row stays, so
    # authorship of notes and history and every audit event keep naming the user.
    terminated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


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


class UserRequest(Base):
    """A User Request, role change, password reset or termination form (standards 4, 15, 16),
    signed by a setting manager (USER_REQUEST) and decided by the eStart Administrator.

    `details` holds what was asked: NEW_USER {username, displayName, crbCheckedOn,
    dataProtectionTrainedOn, roles}; ROLE_CHANGE {roles}; TERMINATION {reason}; roles as
    [[role, setting id or null], ...]. No password is ever stored here."""

    __tablename__ = "user_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[date] = mapped_column(Date)
    # The user the request is about (for NEW_USER: the one created, once approved).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    approvals_needed: Mapped[int] = mapped_column(Integer)
    first_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
