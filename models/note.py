from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, utcnow


class Note(Base):
    """An entry of a notes history (HISTORY) or confidential notes history (CONFIDENTIAL) of a
    family, carer or child (standards 7). Append-only: the API never edits or deletes one."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(10))  # family | carer | child
    subject_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(12))  # HISTORY | CONFIDENTIAL
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    setting_id: Mapped[int] = mapped_column(ForeignKey("settings.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # A correction is a new note that names the one it corrects; nothing is edited.
    corrects_note_id: Mapped[int | None] = mapped_column(ForeignKey("notes.id"))
