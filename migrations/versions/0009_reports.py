"""Reports' geography: postcodes' LSOA and reach area, and monthly births per reach area.

Revision ID: 0009_reports
Revises: 0008_contactpoint_feed

Self-contained: it imports no application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_reports"
down_revision: str | Sequence[str] | None = "0008_contactpoint_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "postcode_areas",
        sa.Column("postcode", sa.String(8), nullable=False),
        sa.Column("reach_area", sa.String(60), nullable=False),
        sa.Column("lsoa", sa.String(9), nullable=False),
        sa.PrimaryKeyConstraint("postcode", name=op.f("pk_postcode_areas")),
    )
    op.create_index(op.f("ix_postcode_areas_reach_area"), "postcode_areas", ["reach_area"])
    op.create_table(
        "birth_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("reach_area", sa.String(60), nullable=False),
        sa.Column("births", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_birth_figures")),
        sa.UniqueConstraint("month", "reach_area", name=op.f("uq_birth_figures_month")),
    )


def downgrade() -> None:
    op.drop_table("birth_figures")
    op.drop_index(op.f("ix_postcode_areas_reach_area"), table_name="postcode_areas")
    op.drop_table("postcode_areas")
