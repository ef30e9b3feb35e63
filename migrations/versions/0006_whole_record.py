"""The whole record is editable: carers and children carry a version, and a person who leaves a
family keeps their record with the date and reason they left.

Revision ID: 0006_whole_record
Revises: 0005_idempotency

Self-contained: it imports no application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_whole_record"
down_revision: str | Sequence[str] | None = "0005_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PEOPLE = ("carers", "children")


def upgrade() -> None:
    for table in PEOPLE:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
            batch.add_column(sa.Column("left_on", sa.Date(), nullable=True))
            batch.add_column(sa.Column("left_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in PEOPLE:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("left_reason")
            batch.drop_column("left_on")
            batch.drop_column("version")
