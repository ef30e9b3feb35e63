"""Audit trails of records (standards 2) and their history as each caller may see it.

A change is audited as one event per data category it touches, so that a record's history
can show each entry only to those who may read that category: a role that may not read a
field does not see its old values either.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from authz.categories import Category
from authz.fields import category_of
from authz.grants import Access
from resolvers.context import Context

FieldMap = Mapping[str, tuple[str, str]]
"""column -> (its name in history entries, the record field whose declared category it is
audited under: a python field name of the audited record type, or "Type.field"). The category
itself is declared once, beside the field in schema/ (authz.fields)."""

FAMILY_FIELDS: FieldMap = {
    "address_line1": ("address.line1", "address"),
    "address_line2": ("address.line2", "address"),
    "town": ("address.town", "address"),
    "postcode": ("address.postcode", "address"),
    "general_note": ("generalNote", "general_note"),
    "consent_to_contact": ("consentToContact", "no_further_contact"),
    "referral": ("referral", "forms"),
}
PERSON_FIELDS: FieldMap = {
    "first_name": ("firstName", "first_name"),
    "last_name": ("lastName", "last_name"),
    "date_of_birth": ("dateOfBirth", "date_of_birth"),
    "gender": ("gender", "gender"),
    "ethnicity": ("ethnicity", "ethnicity"),
    "language": ("language", "language"),
    "general_note": ("generalNote", "general_note"),
    "relationship": ("relationshipToChildren", "Carer.relationships"),  # carers: to each child registered
    "left_on": ("leftOn", "left_on"),
    "left_reason": ("leftReason", "left_reason"),
}


def field_category(record_type: str, fields: FieldMap, column: str) -> Category:
    """The category a column of `record_type` is audited and written under: its field's declaration."""
    owner, _, name = fields[column][1].rpartition(".")
    return category_of(owner or record_type, name)


def written_categories(record_type: str, fields: FieldMap, values: Mapping[str, Any]) -> list[Category]:
    """The categories of the columns given a value (not None), in the order of Category."""
    given = {field_category(record_type, fields, column) for column, value in values.items() if value is not None}
    return [category for category in Category if category in given]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def record_changes(
    ctx: Context,
    action: str,
    record_type: str,
    record_id: int,
    fields: FieldMap,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    family_id: int,
    setting_id: int | None,
) -> list[Category]:
    """Audit the fields that changed, one event per category; returns those categories."""
    by_category: dict[Category, dict[str, Any]] = {}
    for column, new in after.items():
        old = before.get(column)
        if old != new:
            name, category = fields[column][0], field_category(record_type, fields, column)
            by_category.setdefault(category, {})[name] = {"before": _plain(old), "after": _plain(new)}
    for category, changes in by_category.items():
        ctx.audit.write(
            action, record_type, record_id,
            family_id=family_id, setting_id=setting_id, category=category, changes=changes,
        )  # fmt: skip
    return list(by_category)


@dataclass(slots=True)
class FieldChangeRecord:
    field_name: str
    before: str | None
    after: str | None


@dataclass(slots=True)
class HistoryEntryRecord:
    at: datetime
    action: str
    user_name: str | None
    setting_id: int | None
    category: Category
    changes: list[FieldChangeRecord]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def history_entries(rows: list[Any]) -> list[HistoryEntryRecord]:
    """History entries from the audit rows the history loader read for one record."""
    entries = []
    for event, user_name in rows:
        changes = [
            FieldChangeRecord(name, _text(change.get("before")), _text(change.get("after")))
            for name, change in (event.changes or {}).items()
            if isinstance(change, dict) and ("before" in change or "after" in change)
        ]
        entries.append(
            HistoryEntryRecord(event.at, event.action, user_name, event.setting_id, Category[event.category], changes)
        )
    return entries


def visible(entries: list[HistoryEntryRecord], access: Access) -> list[HistoryEntryRecord]:
    return [entry for entry in entries if entry.category in access.read]
