from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, utcnow


class ContactPointChange(Base):
    """The ContactPoint feed's change log (standards 8), a transactional outbox: rows are
    appended by the transaction that changes a fed field, in commit order (resolvers/
    contactpoint.py), so `seq` is the consumer's position and no committed change is skipped."""

    __tablename__ = "contactpoint_changes"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # UPSERT | REMOVED
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
