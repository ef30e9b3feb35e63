"""Initial schema: settings, users, families and their people, notes, plans, audit trail.

Revision ID: 0001_initial
Revises:
Create Date: 2024-11-29

Self-contained on purpose: it imports no application code, so later edits to the models
cannot change what this revision does. Constraint names are those of the naming convention
in models/base.py, written out literally (op.f marks them as final).
UtcDateTime columns are created as DateTime(timezone=True), the type that decorator stores as.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The DfE ethnicity codes (domain.md §3.1), as at this revision.
DFE_ETHNICITIES: list[tuple[str, str]] = [
    ("WBRI", "White British"),
    ("WIRI", "White Irish"),
    ("WIRT", "Traveller of Irish heritage"),
    ("WROM", "Gypsy/Roma"),
    ("WOTH", "Any other White background"),
    ("MWBC", "White and Black Caribbean"),
    ("MWBA", "White and Black African"),
    ("MWAS", "White and Asian"),
    ("MOTH", "Any other mixed background"),
    ("AIND", "Indian"),
    ("APKN", "Pakistani"),
    ("ABAN", "Bangladeshi"),
    ("AOTH", "Any other Asian background"),
    ("BCRB", "Black Caribbean"),
    ("BAFR", "Black African"),
    ("BOTH", "Any other Black background"),
    ("CHNE", "Chinese"),
    ("OOTH", "Any other ethnic group"),
    ("REFU", "Refused"),
    ("NOBT", "Information not yet obtained"),
]

TIMESTAMP = sa.DateTime(timezone=True)


def _person_table(name: str) -> None:
    """carers and children share their columns (models.family.Person)."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(12), nullable=False),
        sa.Column("ethnicity", sa.String(4), nullable=True),
        sa.Column("language", sa.String(60), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.ForeignKeyConstraint(
            ["family_id"], ["families.id"], name=op.f(f"fk_{name}_family_id_families")
        ),
        sa.ForeignKeyConstraint(
            ["ethnicity"], ["ethnicities.code"], name=op.f(f"fk_{name}_ethnicity_ethnicities")
        ),
    )
    op.create_index(op.f(f"ix_{name}_family_id"), name, ["family_id"])


def upgrade() -> None:
    # --- lookups and organisation -------------------------------------------------------
    ethnicities = op.create_table(
        "ethnicities",
        sa.Column("code", sa.String(4), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ethnicities")),
    )
    op.create_table(
        "settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
        sa.UniqueConstraint("code", name=op.f("uq_settings_code")),
    )

    # --- users, roles, login sessions ---------------------------------------------------
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("crb_checked_on", sa.Date(), nullable=False),
        sa.Column("data_protection_trained_on", sa.Date(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "role_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("setting_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_assignments")),
        sa.UniqueConstraint(
            "user_id", "role", "setting_id", name=op.f("uq_role_assignments_user_id")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_role_assignments_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["setting_id"], ["settings.id"], name=op.f("fk_role_assignments_setting_id_settings")
        ),
    )
    op.create_index(op.f("ix_role_assignments_user_id"), "role_assignments", ["user_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sessions_token_hash")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users")),
    )
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"])

    # --- families and the people in them -----------------------------------------------
    op.create_table(
        "families",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registered_setting_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("address_line1", sa.String(200), nullable=True),
        sa.Column("address_line2", sa.String(200), nullable=True),
        sa.Column("town", sa.String(100), nullable=True),
        sa.Column("postcode", sa.String(8), nullable=True),
        sa.Column("general_note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("entered_at", TIMESTAMP, nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.Column("consent_to_contact", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_families")),
        sa.ForeignKeyConstraint(
            ["registered_setting_id"],
            ["settings.id"],
            name=op.f("fk_families_registered_setting_id_settings"),
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"], ["users.id"], name=op.f("fk_families_entered_by_id_users")
        ),
    )
    op.create_index(
        op.f("ix_families_registered_setting_id"), "families", ["registered_setting_id"]
    )
    op.create_table(
        "affiliations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("setting_id", sa.Integer(), nullable=False),
        sa.Column("consent_given_by", sa.String(200), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliations")),
        sa.ForeignKeyConstraint(
            ["family_id"], ["families.id"], name=op.f("fk_affiliations_family_id_families")
        ),
        sa.ForeignKeyConstraint(
            ["setting_id"], ["settings.id"], name=op.f("fk_affiliations_setting_id_settings")
        ),
    )
    op.create_index(op.f("ix_affiliations_family_id"), "affiliations", ["family_id"])
    op.create_index(op.f("ix_affiliations_setting_id"), "affiliations", ["setting_id"])
    _person_table("carers")
    _person_table("children")
    op.create_table(
        "carer_children",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carer_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("relationship", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carer_children")),
        sa.UniqueConstraint("carer_id", "child_id", name=op.f("uq_carer_children_carer_id")),
        sa.ForeignKeyConstraint(
            ["carer_id"], ["carers.id"], name=op.f("fk_carer_children_carer_id_carers")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_carer_children_child_id_children")
        ),
    )
    op.create_index(op.f("ix_carer_children_carer_id"), "carer_children", ["carer_id"])
    op.create_index(op.f("ix_carer_children_child_id"), "carer_children", ["child_id"])
    op.create_table(
        "child_protection_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_protection_plans")),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_child_protection_plans_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_child_protection_plans_recorded_by_id_users"),
        ),
    )
    op.create_index(
        op.f("ix_child_protection_plans_child_id"), "child_protection_plans", ["child_id"]
    )

    # --- notes histories (append-only through the API) ----------------------------------
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("setting_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.ForeignKeyConstraint(
            ["family_id"], ["families.id"], name=op.f("fk_notes_family_id_families")
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_notes_author_id_users")),
        sa.ForeignKeyConstraint(
            ["setting_id"], ["settings.id"], name=op.f("fk_notes_setting_id_settings")
        ),
    )
    op.create_index(op.f("ix_notes_family_id"), "notes", ["family_id"])
    op.create_index("ix_notes_subject", "notes", ["subject_type", "subject_id"])

    # --- audit trail (append-only in the database itself) -------------------------------
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("setting_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("record_type", sa.String(30), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("family_id", sa.Integer(), nullable=True),  # no FK: the trail outlives records
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_events_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["setting_id"], ["settings.id"], name=op.f("fk_audit_events_setting_id_settings")
        ),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])
    op.create_index(op.f("ix_audit_events_family_id"), "audit_events", ["family_id"])
    _create_audit_triggers()

    op.bulk_insert(
        ethnicities,
        [{"code": code, "label": label, "active": True} for code, label in DFE_ETHNICITIES],
    )


def _dialect_name() -> str:
    # The migration context knows its dialect in offline (--sql) mode too.
    return op.get_context().dialect.name


def _create_audit_triggers() -> None:
    """Refuse UPDATE and DELETE on audit_events. A later SQLite batch migration that
    recreates audit_events drops these triggers and must create them again."""
    dialect = _dialect_name()
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} "
                f"BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only "
            "BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        raise NotImplementedError(f"no append-only triggers for dialect {dialect!r}")


def _drop_audit_triggers() -> None:
    dialect = _dialect_name()
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")


def downgrade() -> None:
    _drop_audit_triggers()
    # Reverse dependency order; indexes go with their tables.
    for table in (
        "audit_events",
        "notes",
        "child_protection_plans",
        "carer_children",
        "children",
        "carers",
        "affiliations",
        "families",
        "sessions",
        "role_assignments",
        "users",
        "settings",
        "ethnicities",
    ):
        op.drop_table(table)
