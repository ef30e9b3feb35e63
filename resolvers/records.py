"""Read-side records handed to the schema: plain slotted objects, each carrying the caller's
`access` to the family it belongs to, which the field guard consults."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from authz.grants import Access


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


def person_record(type_name: str, row: Any, access: Access) -> PersonRecord:
    return PersonRecord(
        type_name=type_name,
        id=row.id,
        family_id=row.family_id,
        first_name=row.first_name,
        last_name=row.last_name,
        date_of_birth=row.date_of_birth,
        gender=row.gender,
        ethnicity=row.ethnicity,
        language=row.language,
        general_note=row.general_note,
        provisional_name=getattr(row, "provisional_name", False),
        access=access,
        version=row.version,
        left_on=row.left_on,
        left_reason=row.left_reason,
    )


def note_record(row: Any) -> NoteRecord:
    return NoteRecord(row.id, row.kind, row.text, row.created_at, row.author_name, row.setting_id, row.corrects_note_id)
