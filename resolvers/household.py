"""A household: the carers and children of families, and what a query asks of them that is a row
per person, per link or per note (the children's open plans, the carers' relationships, the
notes of the families and their people), in one statement.

On PostgreSQL every statement is a round trip plus SQLAlchemy's CPU (issue 17): a family's
people with their plans, relationships and notes cost five statements, read one level at a
time; here they are one UNION ALL, built once for each combination of parts a query asks for.
Each row says which part it is (PERSON_TYPE); the columns a part has not are typed nulls."""

from collections.abc import Callable, Collection, Sequence
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

from models import Carer, CarerChild, Child, ChildProtectionPlan, Note, Setting, User
from models.keys import in_keys
from resolvers.batching import SETTING_CODE, SETTING_NAME, AnyRow

# the parts, as PERSON_TYPE names them
CARER, CHILD, RELATIONSHIP, PLAN, NOTE = "Carer", "Child", "Relationship", "Plan", "Note"
PERSON_TYPE, POSITION = "person_type", "position"
PLAN_PREFIX = "plan_"  # a child's open plan's columns, in the child's row
PERSON_COLUMNS = tuple(column.name for column in Carer.__table__.c)  # the columns carers and children share
PLAN_COLUMNS = tuple(ChildProtectionPlan.__table__.c)
LINKS: Table = CarerChild.__table__  # type: ignore[assignment]
NOTES: Table = Note.__table__  # type: ignore[assignment]
# a note's columns, as the notes loader reads them (resolvers.loaders.NOTES_OF_SUBJECTS)
NOTE_COLUMNS: dict[str, ColumnElement[Any]] = {column.name: column for column in NOTES.c} | {
    "author_name": User.__table__.c.display_name,
    SETTING_CODE: Setting.__table__.c.code,
    SETTING_NAME: Setting.__table__.c.name,
}
Statement = Select[Any] | CompoundSelect[Any]


@lru_cache(maxsize=16)
def household(parts: frozenset[str]) -> Statement:
    """The statement reading `parts` (CARER, CHILD, RELATIONSHIP with CARER, PLAN with CHILD,
    NOTE) of the families given as `ids`; a person who left is no longer among the family's
    people. NOTE reads the notes of the subject `types` and note `kinds` given, oldest first
    (people's rows have no created_at: they sort apart from the notes, first or last)."""
    columns = _columns(parts)
    branches = [branch(columns) for part, branch in _BRANCHES.items() if part in parts]
    order = ["created_at", POSITION] if NOTE in parts else [POSITION]
    if len(branches) == 1:
        return branches[0].order_by(*order)
    both = union_all(*branches)
    return both.order_by(*(both.selected_columns[name] for name in order))


def _columns(parts: frozenset[str]) -> dict[str, Any]:
    """Every column of the statement, by name, with its type: the rows of every part have them."""
    types: dict[str, Any] = {name: Child.__table__.c[name].type for name in PERSON_COLUMNS}
    types["provisional_name"] = Child.provisional_name.type
    if RELATIONSHIP in parts:
        types |= {"carer_id": CarerChild.carer_id.type, "relationship": CarerChild.relationship.type}
    if PLAN in parts:
        types |= {PLAN_PREFIX + column.name: column.type for column in PLAN_COLUMNS}
    if NOTE in parts:
        types |= {name: column.type for name, column in NOTE_COLUMNS.items() if name not in types}
    return types


def _select(
    part: str,
    position: ColumnElement[Any],
    source: FromClause,
    found: dict[str, ColumnElement[Any]],
    columns: dict[str, Any],
) -> Select[Any]:
    """A part's select of `columns`: those it has from `found`, typed nulls for the others."""
    values = [
        found[name].label(name) if name in found else cast(null(), type_).label(name) for name, type_ in columns.items()
    ]
    kind = literal_column(f"'{part}'", String).label(PERSON_TYPE)
    return select(kind, position.label(POSITION), *values).select_from(source)


def _people(model: type[Carer] | type[Child], extra: dict[str, ColumnElement[Any]]) -> dict[str, ColumnElement[Any]]:
    return {name: model.__table__.c[name] for name in PERSON_COLUMNS} | extra


def _carers(columns: dict[str, Any]) -> Select[Any]:
    carers = _select(CARER, Carer.__table__.c.id, Carer.__table__, _people(Carer, {}), columns)
    return carers.where(in_keys(Carer.family_id, "ids"), Carer.left_on.is_(None))


def _children(columns: dict[str, Any]) -> Select[Any]:
    found = _people(Child, {"provisional_name": Child.__table__.c.provisional_name})
    source: FromClause = Child.__table__
    if PLAN_PREFIX + "id" in columns:  # the open plan: at most one a child (a unique index)
        open_plan = and_(ChildProtectionPlan.child_id == Child.id, ChildProtectionPlan.end_date.is_(None))
        source = Child.__table__.outerjoin(ChildProtectionPlan.__table__, open_plan)
        found |= {PLAN_PREFIX + column.name: column for column in PLAN_COLUMNS}
    children = _select(CHILD, Child.__table__.c.id, source, found, columns)
    return children.where(in_keys(Child.family_id, "ids"), Child.left_on.is_(None))


def _relationships(columns: dict[str, Any]) -> Select[Any]:
    """A row per link of a carer of the families to a child (who has not left), the child's columns."""
    children = Child.__table__.c
    found = _people(
        Child,
        {
            "provisional_name": children.provisional_name,
            "carer_id": LINKS.c.carer_id,
            "relationship": LINKS.c.relationship,
        },
    )
    source = LINKS.join(Child.__table__, children.id == LINKS.c.child_id).join(
        Carer.__table__, Carer.__table__.c.id == LINKS.c.carer_id
    )
    links = _select(RELATIONSHIP, LINKS.c.id, source, found, columns)
    return links.where(in_keys(Carer.family_id, "ids"), Carer.left_on.is_(None), Child.left_on.is_(None))


def _notes(columns: dict[str, Any]) -> Select[Any]:
    source = NOTES.join(User.__table__, User.__table__.c.id == NOTES.c.author_id).join(
        Setting.__table__, Setting.__table__.c.id == NOTES.c.setting_id
    )
    notes = _select(NOTE, NOTES.c.id, source, NOTE_COLUMNS, columns)
    return notes.where(in_keys(Note.family_id, "ids"), in_keys(Note.subject_type, "types"), in_keys(Note.kind, "kinds"))


# a part's builder; PLAN is read in CHILD's rows
_BRANCHES: dict[str, Callable[[dict[str, Any]], Select[Any]]] = {
    CARER: _carers,
    CHILD: _children,
    RELATIONSHIP: _relationships,
    NOTE: _notes,
}


def parts_of(rows: Sequence[AnyRow], parts: Collection[str]) -> dict[str, list[AnyRow]]:
    """The rows of each of `parts`, in the statement's order."""
    split: dict[str, list[AnyRow]] = {part: [] for part in parts}
    for row in rows:
        split[row[0]].append(row)  # PERSON_TYPE, the first column
    return split
