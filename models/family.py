from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, utcnow


class Family(Base):
    """A family record, owned by the setting it is registered with (standards 5, 6)."""

    __tablename__ = "families"

    id: Mapped[int] = mapped_column(primary_key=True)
    registered_setting_id: Mapped[int] = mapped_column(ForeignKey("settings.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(8))
    general_note: Mapped[str | None] = mapped_column(Text)
    # The registration form travels with the family (standards 5.1, 5.2).
    source: Mapped[str] = mapped_column(String(20))
    received_on: Mapped[date] = mapped_column(Date)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    consent_to_contact: Mapped[bool] = mapped_column(Boolean, default=False)


class Person:
    """Columns carers and children share."""

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(12))
    ethnicity: Mapped[str | None] = mapped_column(String(30))  # code of the ETHNICITY list
    language: Mapped[str | None] = mapped_column(String(30))  # code of the LANGUAGE list
    general_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    # A person who left the family (standards 5.3) is kept, not deleted: their record, notes
    # and history stay for subject access and retention. The reason is secondary data.
    left_on: Mapped[date | None] = mapped_column(Date)
    left_reason: Mapped[str | None] = mapped_column(Text)


class Carer(Person, Base):
    __tablename__ = "carers"


class Child(Person, Base):
    __tablename__ = "children"

    # An unnamed newborn is "Baby" + surname with this flag set (standards 12).
    provisional_name: Mapped[bool] = mapped_column(Boolean, default=False)


class CarerChild(Base):
    """How a carer is related to a child: primary data (standards 5.3)."""

    __tablename__ = "carer_children"
    __table_args__ = (UniqueConstraint("carer_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    carer_id: Mapped[int] = mapped_column(ForeignKey("carers.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    relationship: Mapped[str] = mapped_column(String(20))


class Affiliation(Base):
    """The family's recorded consent to share its record with another setting (standards 6)."""

    __tablename__ = "affiliations"
    # At most one current affiliation of a family to a setting, even under concurrent writes.
    __table_args__ = (
        Index(
            "uq_affiliations_current",
            "family_id",
            "setting_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey("settings.id"), index=True)
    consent_given_by: Mapped[str] = mapped_column(String(200))
    consent_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
