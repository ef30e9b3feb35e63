"""A household: families with everything of theirs a query asks for that is a row per family,
affiliation, person, link or note (the families with their registered settings, their
affiliations, carers and children, the children's open plans, the carers' relationships, the
notes of the families and their people), in one statement.

On PostgreSQL every statement is a round trip plus SQLAlchemy's CPU (issue 17): a family with
its affiliations, people, plans, relationships and notes cost seven statements, read one level
at a time; here they are one UNION ALL, built once for each combination of parts a query asks
for. Each row says which part it is (PART); the columns a part has not are typed nulls."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    FromClause,
    Select,
    String,
    Table,
    and_,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from models import Affiliation, Carer, CarerChild, Child, ChildProtectionPlan, Family, Note, Setting, User
from models.keys import in_keys
from resolvers.batching import SETTING_CODE, SETTING_NAME, AnyRow

# the parts, as PART names them; PLAN is read in CHILD's rows
FAMILY, AFFILIATION, CARER, CHILD, RELATIONSHIP, PLAN, NOTE = (
    "Family", "Affiliation", "Carer", "Child", "Relationship", "Plan", "Note"
)  # fmt: skip
PART, POSITION = "part", "position"  # which part a row is of, and its order within the part
PLAN_PREFIX = "plan_"  # a child's open plan's columns, in the child's row
AFFILIATION_PREFIX = "affiliation_"  # an affiliation's columns (a note's setting_id is not its setting's)

FAMILIES: Table = Family.__table__  # type: ignore[assignment]
AFFILIATIONS: Table = Affiliation.__table__  # type: ignore[assignment]
CARERS: Table = Carer.__table__  # type: ignore[assignment]
CHILDREN: Table = Child.__table__  # type: ignore[assignment]
LINKS: Table = CarerChild.__table__  # type: ignore[assignment]
PLANS: Table = ChildProtectionPlan.__table__  # type: ignore[assignment]
NOTES: Table = Note.__table__  # type: ignore[assignment]
SETTINGS: Table = Setting.__table__  # type: ignore[assignment]
USERS: Table = User.__table__  # type: ignore[assignment]
AFFILIATION_SETTINGS = aliased(SETTINGS)
Columns = dict[str, ColumnElement[Any]]
Statement = Select[Any] | CompoundSelect[Any]


@dataclass(frozen=True)
class Part:
    """One part's rows: where from, which, in what order, and its columns by the names they have
    in the statement."""

    source: FromClause
    where: tuple[ColumnElement[bool], ...]
    position: ColumnElement[Any]
    columns: Columns = field(default_factory=dict)


def _people(table: Table, extra: Columns) -> Columns:
    """A person's columns (those carers and children share) of `table`, and `extra`."""
    return {column.name: table.c[column.name] for column in CARERS.c} | extra


def _parts(plans: bool) -> dict[str, Part]:
    """Every part, in the statement's order; the children's rows with their open plans when
    `plans` (at most one a child: a unique index)."""
    children: Columns = {"provisional_name": CHILDREN.c.provisional_name}
    child_source: FromClause = CHILDREN
    if plans:
        open_plan = and_(PLANS.c.child_id == CHILDREN.c.id, PLANS.c.end_date.is_(None))
        child_source = CHILDREN.outerjoin(PLANS, open_plan)
        children |= {PLAN_PREFIX + column.name: column for column in PLANS.c}
    return {
        FAMILY: Part(
            FAMILIES.join(SETTINGS, SETTINGS.c.id == FAMILIES.c.registered_setting_id),
            (in_keys(FAMILIES.c.id, "ids"),),
            FAMILIES.c.id,
            {column.name: column for column in FAMILIES.c}
            | {"family_id": FAMILIES.c.id, SETTING_CODE: SETTINGS.c.code, SETTING_NAME: SETTINGS.c.name},
        ),
        AFFILIATION: Part(
            AFFILIATIONS.join(AFFILIATION_SETTINGS, AFFILIATION_SETTINGS.c.id == AFFILIATIONS.c.setting_id),
            (in_keys(AFFILIATIONS.c.family_id, "ids"),),
            AFFILIATIONS.c.id,
            {AFFILIATION_PREFIX + column.name: column for column in AFFILIATIONS.c}
            | {
                "family_id": AFFILIATIONS.c.family_id,
                AFFILIATION_PREFIX + SETTING_CODE: AFFILIATION_SETTINGS.c.code,
                AFFILIATION_PREFIX + SETTING_NAME: AFFILIATION_SETTINGS.c.name,
            },
        ),
        # a person who left is no longer among the family's people
        CARER: Part(
            CARERS,
            (in_keys(CARERS.c.family_id, "ids"), CARERS.c.left_on.is_(None)),
            CARERS.c.id,
            _people(CARERS, {}),
        ),
        CHILD: Part(
            child_source,
            (in_keys(CHILDREN.c.family_id, "ids"), CHILDREN.c.left_on.is_(None)),
            CHILDREN.c.id,
            _people(CHILDREN, children),
        ),
        # a row per link of a carer of the families to a child (who has not left), the child's columns
        RELATIONSHIP: Part(
            LINKS.join(CHILDREN, CHILDREN.c.id == LINKS.c.child_id).join(CARERS, CARERS.c.id == LINKS.c.carer_id),
            (in_keys(CARERS.c.family_id, "ids"), CARERS.c.left_on.is_(None), CHILDREN.c.left_on.is_(None)),
            LINKS.c.id,
            _people(
                CHILDREN,
                {
                    "provisional_name": CHILDREN.c.provisional_name,
                    "carer_id": LINKS.c.carer_id,
                    "relationship": LINKS.c.relationship,
                },
            ),
        ),
        # the notes of the subject `types` and note `kinds` given, as the notes loader reads
        # them (resolvers.loaders.NOTES_OF_SUBJECTS)
        NOTE: Part(
            NOTES.join(USERS, USERS.c.id == NOTES.c.author_id).join(SETTINGS, SETTINGS.c.id == NOTES.c.setting_id),
            (in_keys(NOTES.c.family_id, "ids"), in_keys(NOTES.c.subject_type, "types"), in_keys(NOTES.c.kind, "kinds")),
            NOTES.c.id,
            {column.name: column for column in NOTES.c}
            | {"author_name": USERS.c.display_name, SETTING_CODE: SETTINGS.c.code, SETTING_NAME: SETTINGS.c.name},
        ),
    }


@lru_cache(maxsize=32)
def household(parts: frozenset[str]) -> Statement:
    """The statement reading `parts` of the families given as `ids`; NOTE's rows oldest first
    (the other parts' have no created_at: they sort apart from the notes, first or last)."""
    chosen = {name: part for name, part in _parts(PLAN in parts).items() if name in parts}
    types: dict[str, Any] = {}
    for part in chosen.values():
        types |= {name: column.type for name, column in part.columns.items() if name not in types}
    branches = [_select(name, part, types) for name, part in chosen.items()]
    order = ["created_at", POSITION] if NOTE in parts else [POSITION]
    if len(branches) == 1:
        return branches[0].order_by(*order)
    every = union_all(*branches)
    return every.order_by(*(every.selected_columns[name] for name in order))


def _select(name: str, part: Part, types: dict[str, Any]) -> Select[Any]:
    """A part's select of every column in `types`: those it has, typed nulls for the others."""
    values = [
        part.columns[column].label(column) if column in part.columns else cast(null(), type_).label(column)
        for column, type_ in types.items()
    ]
    kind = literal_column(f"'{name}'", String).label(PART)
    return select(kind, part.position.label(POSITION), *values).select_from(part.source).where(*part.where)


def parts_of(rows: Sequence[AnyRow], parts: Collection[str]) -> dict[str, list[AnyRow]]:
    """The rows of each of `parts`, in the statement's order."""
    split: dict[str, list[AnyRow]] = {part: [] for part in parts}
    for row in rows:
        split[row[0]].append(row)  # PART, the first column
    return split
