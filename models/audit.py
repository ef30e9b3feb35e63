from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from authz.enforcer import policy_in_force
from models.base import Base, UtcDateTime, utcnow

# The action of every audited read ends so: a record's history shows changes, not reads.
READ_SUFFIX = ".read"
# Events written before policy versions were recorded (migration 0010) carry this one.
UNRECORDED_POLICY = "unrecorded"


class AuditEvent(Base):
    """Append-only (standards 2, "appropriate audit trails"): triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    setting_id: Mapped[int | None] = mapped_column(ForeignKey("settings.id"))
    action: Mapped[str] = mapped_column(String(60))
    # The data category the event is about, so a record's history shows each entry only to
    # those who may read that category (None: administrative events).
    category: Mapped[str | None] = mapped_column(String(20))
    record_type: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[int | None]
    family_id: Mapped[int | None] = mapped_column(index=True)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The rules in force when the event was written (authz.enforcer.policy_in_force: SHA-256 of
    # the Casbin model and policy), so an auditor can tell which rules decided.
    policy_version: Mapped[str] = mapped_column(
        String(64), default=lambda: policy_in_force(), server_default=UNRECORDED_POLICY
    )
