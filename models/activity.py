from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, utcnow


class Activity(Base):
    """An activity a setting runs (standards 9): the nine fields, plus the event type. ACTIVITY
    data, shared across all settings; written only in the owning setting."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_setting_start", "setting_id", "start_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey("settings.id"))
    version: Mapped[int] = mapped_column(default=1)
    description: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(200))
    project_leader: Mapped[str] = mapped_column(String(200))
    frequency: Mapped[str] = mapped_column(String(12))
    outcome_type: Mapped[str] = mapped_column(String(30))  # code of the OUTCOME_TYPE list
    outcome: Mapped[str | None] = mapped_column(Text)
    access_group: Mapped[str] = mapped_column(String(30))  # code of the ACCESS_GROUP list
    event_type: Mapped[str | None] = mapped_column(String(30))  # code of the EVENT_TYPE list
    start_date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    aims: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ActivitySession(Base):
    """One occurrence of an activity; its register is due 5 working days after its date (5.5)."""

    __tablename__ = "activity_sessions"
    __table_args__ = (UniqueConstraint("activity_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # When the register was first entered, and by whom: the session's timeliness (REGISTER).
    register_entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    register_entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Attendance(Base):
    """One person's entry on a session's register: SECONDARY data of the person's family."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("session_id", "person_type", "person_id"),
        Index("ix_attendances_person", "person_type", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id"))
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    person_type: Mapped[str] = mapped_column(String(10))  # Carer | Child
    person_id: Mapped[int]
    attended: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Contact(Base):
    """A home visit or other contact with a family (standards 5.5): SECONDARY data of the family,
    recorded against the setting of the family's scope the worker acted from."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey("settings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    date: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[str | None] = mapped_column(Text)
    # The people of the family seen: [{"type": "Carer" | "Child", "id": key}, ...]
    people_seen: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
