from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class LookupValue(Base):
    """A value of a drop-down list the eStart Administrator keeps (standards 15). Values are
    deactivated, never deleted, so records that use them keep their meaning."""

    __tablename__ = "lookup_values"
    __table_args__ = (UniqueConstraint("list_name", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(30))
    code: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Custom indicators (standards 11) may be local to one setting and to one kind of subject.
    setting_id: Mapped[int | None] = mapped_column(ForeignKey("settings.id"))
    applies_to: Mapped[str | None] = mapped_column(String(10))


class SubjectCode(Base):
    """A drop-down value set on a family, carer or child: a warning (standards 7), a
    hard-to-reach group (10) or a custom indicator (11)."""

    __tablename__ = "subject_codes"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "list_name", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[int]
    list_name: Mapped[str] = mapped_column(String(30))
    code: Mapped[str] = mapped_column(String(30))
