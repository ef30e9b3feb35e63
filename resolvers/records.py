"""Read-side records handed to the schema: plain slotted objects, each carrying the caller's
`access` to the family it belongs to, which the field guard consults."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Row

from authz.grants import Access
from resolvers.batching import SETTING_CODE, SETTING_NAME


@dataclass(frozen=True, slots=True)
class SettingRecord:
    id: int
    code: str
    name: str


@dataclass(slots=True)
class AddressRecord:
    line1: str | None
    line2: str | None
    town: str | None
    postcode: str | None


@dataclass(frozen=True, slots=True)
class AffiliationRecord:
    id: int
    family_id: int
    setting_id: int
    consent_given_by: str
    consent_date: date
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """A child protection plan."""

    id: int
    child_id: int
    category: str
    start_date: date
    end_date: date | None


@dataclass(slots=True)
class FamilyRecord:
    id: int
    version: int
    registered_setting_id: int
    address: AddressRecord
    general_note: str | None
    consent_to_contact: bool
    access: Access
    affiliations: list[AffiliationRecord]  # read with the scope, which they define
    carers: "list[PersonRecord] | None" = None  # preloaded for a page (resolvers.family.preload)
    children: "list[PersonRecord] | None" = None
    notes: "dict[str, list[NoteRecord]] | None" = None  # by kind, preloaded for a page (preload_notes)
    registered_setting: SettingRecord | None = None  # read with a page (family_records)


@dataclass(slots=True)
class PersonRecord:
    type_name: str  # "Carer" | "Child"
    id: int
    family_id: int
    first_name: str
    last_name: str
    date_of_birth: date | None
    gender: str
    ethnicity: str | None
    language: str | None
    general_note: str | None
    provisional_name: bool
    access: Access
    version: int = 1
    left_on: date | None = None
    left_reason: str | None = None
    notes: "dict[str, list[NoteRecord]] | None" = None  # by kind, preloaded with a page (preload_notes)


@dataclass(slots=True)
class NoteRecord:
    id: int
    kind: str
    text: str
    created_at: datetime
    author_name: str
    setting_id: int
    corrects_note_id: int | None = None


def affiliation_record(row: Any) -> AffiliationRecord:
    return AffiliationRecord(
        row.id, row.family_id, row.setting_id, row.consent_given_by, row.consent_date, row.revoked_at
    )


def plan_record(row: Any) -> PlanRecord:
    return PlanRecord(row.id, row.child_id, row.category, row.start_date, row.end_date)


def family_record(row: Any, access: Access, affiliations: list[AffiliationRecord]) -> FamilyRecord:
    return FamilyRecord(
        id=row.id,
        version=row.version,
        registered_setting_id=row.registered_setting_id,
        address=AddressRecord(row.address_line1, row.address_line2, row.town, row.postcode),
        general_note=row.general_note,
        consent_to_contact=row.consent_to_contact,
        access=access,
        affiliations=affiliations,
    )


FamilyMaker = Callable[[Any, Access, list[AffiliationRecord]], FamilyRecord]
FAMILY_HEAD = ("id", "version", "registered_setting_id")
FAMILY_ADDRESS = ("address_line1", "address_line2", "town", "postcode")
FAMILY_TAIL = ("general_note", "consent_to_contact")


@lru_cache(maxsize=16)
def family_maker(columns: tuple[str, ...]) -> FamilyMaker:
    """family_record for rows with these columns, reading them by position (as person_maker)."""
    head, address, tail = (
        itemgetter(*map(columns.index, names)) for names in (FAMILY_HEAD, FAMILY_ADDRESS, FAMILY_TAIL)
    )
    new: Callable[..., FamilyRecord] = FamilyRecord  # positionally, in the order of its fields
    return lambda row, access, affiliations: new(
        *head(row), AddressRecord(*address(row)), *tail(row), access, affiliations
    )


def family_records(rows: Sequence[Any], scopes: Sequence[tuple[Access, list[AffiliationRecord]]]) -> list[FamilyRecord]:
    """family_record of each row (a page's Rows by position, anything else by attribute), with
    its registered setting when the rows hold it (resolvers.loaders.with_setting)."""
    if not rows or not isinstance(rows[0], Row):
        return [
            family_record(row, access, affiliations) for row, (access, affiliations) in zip(rows, scopes, strict=True)
        ]
    columns = rows[0]._fields
    make = family_maker(columns)
    records = [make(row, access, affiliations) for row, (access, affiliations) in zip(rows, scopes, strict=True)]
    if SETTING_CODE in columns:
        attach_settings(records, rows, columns)
    return records


def attach_settings(records: list[FamilyRecord], rows: Sequence[Row[Any]], columns: tuple[str, ...]) -> None:
    """Each family's registered setting from its row, so the field answers without the setting
    loader's future (one per family); one record per setting, as the loader primed from these rows."""
    code, name = itemgetter(columns.index(SETTING_CODE)), itemgetter(columns.index(SETTING_NAME))
    settings: dict[int, SettingRecord] = {}
    for record, row in zip(records, rows, strict=True):
        setting_id = record.registered_setting_id
        setting = settings.get(setting_id)
        if setting is None:
            setting = settings[setting_id] = SettingRecord(setting_id, code(row), name(row))
        record.registered_setting = setting


def person_record(type_name: str, row: Any, access: Access) -> PersonRecord:
    """A carer's or a child's record from a row of its table (carers have no provisional name)."""
    return PersonRecord(
        type_name,
        row.id,
        row.family_id,
        row.first_name,
        row.last_name,
        row.date_of_birth,
        row.gender,
        row.ethnicity,
        row.language,
        row.general_note,
        row.provisional_name if type_name == "Child" else False,
        access,
        row.version,
        row.left_on,
        row.left_reason,
    )


PERSON_HEAD = ("id", "family_id", "first_name", "last_name", "date_of_birth", "gender", "ethnicity", "language")
PERSON_TAIL = ("version", "left_on", "left_reason")
PersonMaker = Callable[[Any, Access], PersonRecord]


@lru_cache(maxsize=64)
def person_maker(type_name: str, columns: tuple[str, ...]) -> PersonMaker:
    """person_record for rows with these columns (a SQLAlchemy Row's `_fields`), reading them by
    position: a Row's attribute costs ~0.5 µs, and a page of families has thousands of people.
    Each column is indexed on its own (positions held by the closure): itemgetters' tuples
    unpacked into the call cost more than the record's constructor."""
    i, f, first, last, born, gender, ethnicity, language = map(columns.index, PERSON_HEAD)
    version, left_on, left_reason = map(columns.index, PERSON_TAIL)
    note = columns.index("general_note")
    new: Callable[..., PersonRecord] = PersonRecord  # positionally, in the order of its fields
    if type_name == "Child":
        provisional = columns.index("provisional_name")
        return lambda row, access: new(
            type_name, row[i], row[f], row[first], row[last], row[born], row[gender], row[ethnicity],
            row[language], row[note], row[provisional], access, row[version], row[left_on], row[left_reason],
        )  # fmt: skip
    return lambda row, access: new(
        type_name, row[i], row[f], row[first], row[last], row[born], row[gender], row[ethnicity],
        row[language], row[note], False, access, row[version], row[left_on], row[left_reason],
    )  # fmt: skip


def maker_of(type_name: str, groups: Iterable[Sequence[Row[Any]]]) -> PersonMaker:
    """person_maker for rows of one statement, however grouped (a Row's `_fields` is built anew
    on each call, so it is read once)."""
    for rows in groups:
        if rows:
            return person_maker(type_name, rows[0]._fields)
    return lambda row, access: person_record(type_name, row, access)  # there are no rows


def person_records(type_name: str, rows: Sequence[Row[Any]], access: Access) -> list[PersonRecord]:
    """person_record of each row, rows of one statement (they share their columns)."""
    make = maker_of(type_name, (rows,))
    return [make(row, access) for row in rows]


def note_record(row: Any) -> NoteRecord:
    return NoteRecord(row.id, row.kind, row.text, row.created_at, row.author_name, row.setting_id, row.corrects_note_id)
