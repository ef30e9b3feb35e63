"""The data standards' rules: drop-down lists, codes on subjects, forms, general notes on
people, note corrections, provisional names, audit categories.

Revision ID: 0002_data_standards
Revises: 0001_initial

The ethnicity list moves into the general `lookup_values` table (list ETHNICITY), so every
drop-down list is kept the same way; carers' and children's ethnicity stay codes of it.
Self-contained: it imports no application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_data_standards"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)

# Defaults (../shared/research/domain.md §3); the administrator adds and deactivates values.
LANGUAGES = [  # ISO 639-2 codes
    ("ENG", "English"),
    ("POL", "Polish"),
    ("URD", "Urdu"),
    ("PAN", "Panjabi"),
    ("BEN", "Bengali"),
    ("ARA", "Arabic"),
    ("GUJ", "Gujarati"),
    ("FRA", "French"),
    ("SPA", "Spanish"),
    ("ZHO", "Chinese"),
    ("KUR", "Kurdish"),
    ("RON", "Romanian"),
    ("SOM", "Somali"),
    ("SGN", "Sign language"),
    ("UND", "Not known"),
]
WARNINGS = [
    ("DO_NOT_VISIT_ALONE", "Do not visit alone"),
    ("AGGRESSIVE_BEHAVIOUR", "Risk of aggressive behaviour"),
    ("DANGEROUS_DOG", "Dangerous dog at the address"),
    ("DO_NOT_SEND_POST", "Do not send post to the address"),
    ("INFECTION_CONTROL", "Infection control precautions"),
    ("SEVERE_ALLERGY", "Severe allergy"),
]
HARD_TO_REACH = [
    ("TEENAGE_PARENT", "Teenage parent"),
    ("LONE_PARENT", "Lone parent"),
    ("FATHER_OR_MALE_CARER", "Father or male carer"),
    ("DISABLED_PARENT", "Disabled parent"),
    ("DISABLED_CHILD", "Disabled child"),
    ("BME", "Black and minority ethnic"),
    ("GYPSY_ROMA_TRAVELLER", "Gypsy, Roma or Traveller"),
    ("WORKLESS_HOUSEHOLD", "Workless household"),
    ("DOMESTIC_ABUSE", "Domestic abuse"),
    ("ASYLUM_REFUGEE", "Asylum seeker or refugee"),
    ("TEMPORARY_ACCOMMODATION", "Temporary accommodation"),
    ("PARENTAL_MENTAL_HEALTH", "Parental mental health"),
    ("PARENTAL_SUBSTANCE_MISUSE", "Parental substance misuse"),
    ("ENGLISH_NOT_FIRST_LANGUAGE", "English not the first language"),
    ("OFFENDER_OR_PRISONER_FAMILY", "Offender or prisoner in the family"),
    ("MILITARY_FAMILY", "Military family"),
]
INDICATORS = [
    ("CHILDMINDER", "Childminder", "CARER"),
    ("VOLUNTEER", "Volunteer", "CARER"),
    ("BOTTLE_FED", "Bottle-fed baby", "CHILD"),
]
RELATIONSHIPS = [
    ("MOTHER", "Mother"),
    ("FATHER", "Father"),
    ("STEP_PARENT", "Step-parent"),
    ("GRANDPARENT", "Grandparent"),
    ("FOSTER_CARER", "Foster carer"),
    ("GUARDIAN", "Guardian"),
    ("OTHER_RELATIVE", "Other relative"),
    ("OTHER", "Other"),
]
REFERRAL_REASONS = [
    ("PARENTING_SUPPORT", "Parenting support"),
    ("CHILD_DEVELOPMENT", "Child development"),
    ("SPEECH_LANGUAGE", "Speech and language"),
    ("PARENTAL_MENTAL_HEALTH", "Parental mental health"),
    ("DOMESTIC_ABUSE", "Domestic abuse"),
    ("HOUSING", "Housing"),
    ("FINANCIAL", "Money and debt"),
    ("HEALTH", "Health"),
    ("EMPLOYMENT_TRAINING", "Employment and training"),
    ("OTHER", "Other"),
]
EVENT_TYPES = [
    ("STAY_AND_PLAY", "Stay and play"),
    ("BABY_MASSAGE", "Baby massage"),
    ("PARENTING_COURSE", "Parenting course"),
    ("HEALTH_CLINIC", "Health clinic"),
    ("HOME_VISIT", "Home visit"),
    ("ADULT_LEARNING", "Adult learning"),
]
OUTCOME_TYPES = [
    ("SCHOOL_READINESS", "School readiness"),
    ("PARENTING", "Parenting aspirations and skills"),
    ("HEALTH", "Child and family health and life chances"),
]


def upgrade() -> None:
    lookup_values = op.create_table(
        "lookup_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(30), nullable=False),
        sa.Column("code", sa.String(30), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("setting_id", sa.Integer(), nullable=True),
        sa.Column("applies_to", sa.String(10), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_values")),
        sa.UniqueConstraint("list_name", "code", name=op.f("uq_lookup_values_list_name")),
        sa.ForeignKeyConstraint(["setting_id"], ["settings.id"], name=op.f("fk_lookup_values_setting_id_settings")),
    )
    op.execute(
        "INSERT INTO lookup_values (list_name, code, label, active) "
        "SELECT 'ETHNICITY', code, label, active FROM ethnicities"
    )
    rows = []
    for list_name, values in (
        ("LANGUAGE", LANGUAGES),
        ("WARNING", WARNINGS),
        ("HARD_TO_REACH_GROUP", HARD_TO_REACH),
        ("RELATIONSHIP", RELATIONSHIPS),
        ("REFERRAL_REASON", REFERRAL_REASONS),
        ("EVENT_TYPE", EVENT_TYPES),
        ("OUTCOME_TYPE", OUTCOME_TYPES),
    ):
        rows += [
            {"list_name": list_name, "code": c, "label": label, "active": True, "applies_to": None}
            for c, label in values
        ]
    rows += [
        {"list_name": "CUSTOM_INDICATOR", "code": c, "label": label, "active": True, "applies_to": subject}
        for c, label, subject in INDICATORS
    ]
    # Every row names the same columns: an executemany takes its column list from the first row.
    op.bulk_insert(lookup_values, rows)

    for table in ("carers", "children"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_ethnicity_ethnicities", type_="foreignkey")
            batch.alter_column("ethnicity", type_=sa.String(30), existing_nullable=True)
            batch.alter_column("language", type_=sa.String(30), existing_nullable=True)
            batch.add_column(sa.Column("general_note", sa.Text(), nullable=True))
    op.drop_table("ethnicities")
    op.add_column("children", sa.Column("provisional_name", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("notes") as batch:
        batch.add_column(sa.Column("corrects_note_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_notes_corrects_note_id_notes"), "notes", ["corrects_note_id"], ["id"])
    # At most one open plan per child and one current affiliation per family and setting.
    op.create_index(
        "uq_child_protection_plans_open", "child_protection_plans", ["child_id"], unique=True,
        sqlite_where=sa.text("end_date IS NULL"), postgresql_where=sa.text("end_date IS NULL"),
    )  # fmt: skip
    op.create_index(
        "uq_affiliations_current", "affiliations", ["family_id", "setting_id"], unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"), postgresql_where=sa.text("revoked_at IS NULL"),
    )  # fmt: skip
    # Plain ADD COLUMN: rebuilding audit_events in batch mode would drop its append-only triggers.
    op.add_column("audit_events", sa.Column("category", sa.String(20), nullable=True))

    op.create_table(
        "subject_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(30), nullable=False),
        sa.Column("code", sa.String(30), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_codes")),
        sa.UniqueConstraint(
            "subject_type", "subject_id", "list_name", "code", name=op.f("uq_subject_codes_subject_type")
        ),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"], name=op.f("fk_subject_codes_family_id_families")),
    )
    op.create_index(op.f("ix_subject_codes_family_id"), "subject_codes", ["family_id"])

    op.create_table(
        "forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("setting_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("logged_by_id", sa.Integer(), nullable=False),
        sa.Column("logged_at", TIMESTAMP, nullable=False),
        sa.Column("entered_at", TIMESTAMP, nullable=True),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("referral_type", sa.String(20), nullable=True),
        sa.Column("referrer_name", sa.String(200), nullable=True),
        sa.Column("referrer_organisation", sa.String(200), nullable=True),
        sa.Column("reason_code", sa.String(30), nullable=True),
        sa.Column("consent_to_contact", sa.Boolean(), nullable=True),
        sa.Column("consent_recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.ForeignKeyConstraint(["setting_id"], ["settings.id"], name=op.f("fk_forms_setting_id_settings")),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"], name=op.f("fk_forms_family_id_families")),
        sa.ForeignKeyConstraint(["logged_by_id"], ["users.id"], name=op.f("fk_forms_logged_by_id_users")),
        sa.ForeignKeyConstraint(["entered_by_id"], ["users.id"], name=op.f("fk_forms_entered_by_id_users")),
        sa.ForeignKeyConstraint(
            ["consent_recorded_by_id"], ["users.id"], name=op.f("fk_forms_consent_recorded_by_id_users")
        ),
    )
    op.create_index(op.f("ix_forms_setting_id"), "forms", ["setting_id"])
    op.create_index(op.f("ix_forms_family_id"), "forms", ["family_id"])


def downgrade() -> None:
    op.drop_index("uq_affiliations_current", "affiliations")
    op.drop_index("uq_child_protection_plans_open", "child_protection_plans")
    op.drop_table("forms")
    op.drop_table("subject_codes")
    op.drop_column("audit_events", "category")
    with op.batch_alter_table("notes") as batch:
        batch.drop_constraint(op.f("fk_notes_corrects_note_id_notes"), type_="foreignkey")
        batch.drop_column("corrects_note_id")
    with op.batch_alter_table("children") as batch:
        batch.drop_column("provisional_name")
    ethnicities = op.create_table(
        "ethnicities",
        sa.Column("code", sa.String(4), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ethnicities")),
    )
    del ethnicities
    op.execute(
        "INSERT INTO ethnicities (code, label, active) "
        "SELECT code, label, active FROM lookup_values WHERE list_name = 'ETHNICITY'"
    )
    for table in ("carers", "children"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("general_note")
            batch.alter_column("language", type_=sa.String(60), existing_nullable=True)
            batch.alter_column("ethnicity", type_=sa.String(4), existing_nullable=True)
            batch.create_foreign_key(f"fk_{table}_ethnicity_ethnicities", "ethnicities", ["ethnicity"], ["code"])
    op.drop_table("lookup_values")
