from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime


class IdempotencyKey(Base):
    """A mutation sent with an `Idempotency-Key` header: the key is claimed in the mutation's own
    transaction and `response` (the JSON sent to the client) is stored before it commits, so the
    write and its remembered answer land together or not at all. A repeat by the same user within
    24 hours with the same request (`request_hash`: SHA-256 of query, variables and operation
    name) gets `response` back without running again. Rows older than 24 hours are deleted."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    response: Mapped[str | None] = mapped_column(Text)
