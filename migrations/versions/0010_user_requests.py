"""User accounts as the standards run them: requests and their approvals, the user's last login
and termination, and the policy version on every audit event.

Revision ID: 0010_user_requests
Revises: 0009_reports

Self-contained: it imports no application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_user_requests"
down_revision: str | Sequence[str] | None = "0009_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("approvals_needed", sa.Integer(), nullable=False),
        sa.Column("first_approved_by_id", sa.Integer(), nullable=True),
        sa.Column("first_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(1000), nullable=True),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_user_requests_requested_by_id_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_requests_user_id_users")),
        sa.ForeignKeyConstraint(
            ["first_approved_by_id"], ["users.id"], name=op.f("fk_user_requests_first_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_user_requests_decided_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_requests")),
    )
    op.create_index(op.f("ix_user_requests_status"), "user_requests", ["status"])
    # Plain ADD COLUMN: a batch rebuild would drop the tables' triggers (audit_events is append-only).
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True))
    # Events already written cannot be updated (append-only): they read "unrecorded".
    op.add_column(
        "audit_events",
        sa.Column("policy_version", sa.String(64), nullable=False, server_default="unrecorded"),
    )


def downgrade() -> None:
    op.drop_column("audit_events", "policy_version")
    op.drop_column("users", "terminated_at")
    op.drop_column("users", "last_login_at")
    op.drop_index(op.f("ix_user_requests_status"), table_name="user_requests")
    op.drop_table("user_requests")
