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
from authz.grants import Access
from resolvers.context import Context

FieldMap = Mapping[str, tuple[str, Category]]  # column -> (API field name, category)

FAMILY_FIELDS: FieldMap = {
    "address_line1": ("address.line1", Category.PRIMARY),
    "address_line2": ("address.line2", Category.PRIMARY),
    "town": ("address.town", Category.PRIMARY),
    "postcode": ("address.postcode", Category.PRIMARY),
    "general_note": ("generalNote", Category.SECONDARY),
    # No further contact (standards 5.1) qualifies the use of the address: primary.
    "consent_to_contact": ("consentToContact", Category.PRIMARY),
    "referral": ("referral", Category.SECONDARY),
}
PERSON_FIELDS: FieldMap = {
    "first_name": ("firstName", Category.PRIMARY),
    "last_name": ("lastName", Category.PRIMARY),
    "date_of_birth": ("dateOfBirth", Category.PRIMARY),
    "gender": ("gender", Category.PRIMARY),
    "ethnicity": ("ethnicity", Category.SECONDARY),
    "language": ("language", Category.SECONDARY),
    "general_note": ("generalNote", Category.SECONDARY),
    "relationship": ("relationshipToChildren", Category.PRIMARY),  # carers: to each child registered
    "left_on": ("leftOn", Category.PRIMARY),
    # Why a person left may say more than that they moved out: secondary, like the general note.
    "left_reason": ("leftReason", Category.SECONDARY),
}


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
            name, category = fields[column]
            by_category.setdefault(category, {})[name] = {"before": _plain(old), "after": _plain(new)}
    for category, changes in by_category.items():
        ctx.audit.write(
            action, record_type, record_id,
            family_id=family_id, setting_id=setting_id, category=category, changes=changes,
        )  # fmt: skip
    return list(by_category)


@dataclass(slots=True)
class FieldChange:
    field_name: str
    before: str | None
    after: str | None


@dataclass(slots=True)
class HistoryEntry:
    at: datetime
    action: str
    user_name: str | None
    setting_id: int | None
    category: Category
    changes: list[FieldChange]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def history_entries(rows: list[Any]) -> list[HistoryEntry]:
    """History entries from the audit rows the history loader read for one record."""
    entries = []
    for event, user_name in rows:
        changes = [
            FieldChange(name, _text(change.get("before")), _text(change.get("after")))
            for name, change in (event.changes or {}).items()
            if isinstance(change, dict) and ("before" in change or "after" in change)
        ]
        entries.append(
            HistoryEntry(event.at, event.action, user_name, event.setting_id, Category[event.category], changes)
        )
    return entries


def visible(entries: list[HistoryEntry], access: Access) -> list[HistoryEntry]:
    return [entry for entry in entries if entry.category in access.read]
