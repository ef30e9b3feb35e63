from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, utcnow


class Form(Base):
    """Something received that must be entered within a deadline (standards 5): an initial
    contact form, a referral, notice of a change, a register or a home-visit contact sheet.
    entered_at is null while the item is received but not yet entered."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    setting_id: Mapped[int] = mapped_column(ForeignKey("settings.id"), index=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    logged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    logged_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Referral form (standards 5.2)
    referral_type: Mapped[str | None] = mapped_column(String(20))
    referrer_name: Mapped[str | None] = mapped_column(String(200))
    referrer_organisation: Mapped[str | None] = mapped_column(String(200))
    reason_code: Mapped[str | None] = mapped_column(String(30))
    # Initial contact form (standards 5.1): consent to further contact, who recorded it, when
    consent_to_contact: Mapped[bool | None] = mapped_column(Boolean)
    consent_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consent_date: Mapped[date | None] = mapped_column(Date)
