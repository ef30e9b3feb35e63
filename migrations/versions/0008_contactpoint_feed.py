"""The ContactPoint feed's change log: one row per change of a child's fed state, appended in
commit order; existing children start the log with an UPSERT each.

Revision ID: 0008_contactpoint_feed
Revises: 0007_activities

Self-contained: it imports no application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_contactpoint_feed"
down_revision: str | Sequence[str] | None = "0007_activities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contactpoint_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_contactpoint_changes_child_id_children")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_contactpoint_changes")),
    )
    op.create_index(op.f("ix_contactpoint_changes_child_id"), "contactpoint_changes", ["child_id"])
    op.execute(
        "INSERT INTO contactpoint_changes (child_id, kind, at) "
        "SELECT id, 'UPSERT', CURRENT_TIMESTAMP FROM children WHERE left_on IS NULL ORDER BY id"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_contactpoint_changes_child_id"), table_name="contactpoint_changes")
    op.drop_table("contactpoint_changes")
