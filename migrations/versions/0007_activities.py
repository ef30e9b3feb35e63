"""Activities, their sessions and attendance registers, and contacts with families (home
visits and others): standards 5.5 and 9. Adds the ACCESS_GROUP drop-down list.

Revision ID: 0007_activities
Revises: 0006_whole_record

Self-contained: it imports no application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_activities"
down_revision: str | Sequence[str] | None = "0006_whole_record"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)

# Defaults; the administrator adds and deactivates values (standards 15).
ACCESS_GROUPS = [
    ("OPEN", "Open to all families"),
    ("TARGETED", "Targeted: by invitation or referral"),
    ("REFERRAL_ONLY", "Referral only"),
    ("BOOKING_REQUIRED", "Open, booking required"),
]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    lookup_values = sa.table(
        "lookup_values",
        sa.column("list_name", sa.String),
        sa.column("code", sa.String),
        sa.column("label", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("applies_to", sa.String),
    )
    op.bulk_insert(
        lookup_values,
        [
            {"list_name": "ACCESS_GROUP", "code": code, "label": label, "active": True, "applies_to": None}
            for code, label in ACCESS_GROUPS
        ],
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("setting_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("project_leader", sa.String(200), nullable=False),
        sa.Column("frequency", sa.String(12), nullable=False),
        sa.Column("outcome_type", sa.String(30), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("access_group", sa.String(30), nullable=False),
        sa.Column("event_type", sa.String(30), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("aims", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        _fk("activities", "setting_id", "settings"),
        _fk("activities", "created_by_id", "users"),
    )
    op.create_index("ix_activities_setting_start", "activities", ["setting_id", "start_date", "id"])
    op.create_index(op.f("ix_activities_start_date"), "activities", ["start_date"])

    op.create_table(
        "activity_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("register_entered_at", TIMESTAMP, nullable=True),
        sa.Column("register_entered_by_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_sessions")),
        sa.UniqueConstraint("activity_id", "date", name=op.f("uq_activity_sessions_activity_id")),
        _fk("activity_sessions", "activity_id", "activities"),
        _fk("activity_sessions", "register_entered_by_id", "users"),
    )
    op.create_index(op.f("ix_activity_sessions_activity_id"), "activity_sessions", ["activity_id"])
    op.create_index(op.f("ix_activity_sessions_date"), "activity_sessions", ["date"])

    op.create_table(
        "attendances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("person_type", sa.String(10), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendances")),
        sa.UniqueConstraint("session_id", "person_type", "person_id", name=op.f("uq_attendances_session_id")),
        _fk("attendances", "session_id", "activity_sessions"),
        _fk("attendances", "family_id", "families"),
        _fk("attendances", "recorded_by_id", "users"),
    )
    op.create_index(op.f("ix_attendances_family_id"), "attendances", ["family_id"])
    op.create_index("ix_attendances_person", "attendances", ["person_type", "person_id"])

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("setting_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("people_seen", sa.JSON(), nullable=False),
        sa.Column("entered_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        _fk("contacts", "family_id", "families"),
        _fk("contacts", "setting_id", "settings"),
        _fk("contacts", "worker_id", "users"),
    )
    op.create_index(op.f("ix_contacts_family_id"), "contacts", ["family_id"])
    op.create_index(op.f("ix_contacts_setting_id"), "contacts", ["setting_id"])


def downgrade() -> None:
    op.drop_table("contacts")
    op.drop_table("attendances")
    op.drop_table("activity_sessions")
    op.drop_table("activities")
    op.execute("DELETE FROM lookup_values WHERE list_name = 'ACCESS_GROUP'")
