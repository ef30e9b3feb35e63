"""Login hardening: keyed account fingerprints, per-source throttles, forced password change.

Revision ID: 0004_login_hardening
Revises: 0003_login_security

- `deployment_secrets` holds the login key a deployment generates on first use when
  ESTART_LOGIN_KEY is unset (auth/login_key.py).
- `login_throttles.user_id`: the user an account row names, so its unreported failures can be
  audited against the user even when the row is swept or purged.
- `users.must_change_password`: set by an administrator's createUser or setPassword.
- Account rows keyed by the old unsalted SHA-256 are dropped (their keys are reversible by
  dictionary and no longer match anything); the failures they had not yet reported are written
  first as one aggregated `login.failed` event, so nothing counted is lost from the audit trail.
Self-contained: it imports no application code.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004_login_hardening"
down_revision: str | Sequence[str] | None = "0003_login_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployment_secrets",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_deployment_secrets")),
    )
    with op.batch_alter_table("login_throttles") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))

    connection = op.get_bind()
    throttles = sa.table("login_throttles", sa.column("kind", sa.String), sa.column("unreported", sa.Integer))
    pending = connection.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(throttles.c.unreported), 0)).where(throttles.c.kind == "account")
    )
    if pending:
        audit = sa.table(
            "audit_events",
            sa.column("at", sa.DateTime(timezone=True)),
            sa.column("action", sa.String),
            sa.column("record_type", sa.String),
            sa.column("changes", sa.JSON),
        )
        connection.execute(
            audit.insert().values(
                at=datetime.now(UTC),
                action="login.failed",
                record_type="LoginThrottle",
                changes={"kind": "account", "count": int(pending), "aggregated": True, "reason": "migration 0004"},
            )
        )
    connection.execute(throttles.delete().where(throttles.c.kind == "account"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
    with op.batch_alter_table("login_throttles") as batch:
        batch.drop_column("user_id")
    op.drop_table("deployment_secrets")
