"""A record's history: its audit events, each shown only to those who may read its category."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from resolvers.context import Context
from resolvers.history import HistoryEntryRecord
from resolvers.records import FamilyRecord, PersonRecord, SettingRecord
from schema.fields import INHERITED, Category, field, guarded, record
from schema.setting import Setting


@record
class FieldChange:
    field_name: str = field(INHERITED, name="field")
    before: str | None = field(INHERITED)
    after: str | None = field(INHERITED)


@record
class HistoryEntry:
    at: datetime = field(INHERITED)
    action: str = field(INHERITED)
    user_name: str | None = field(INHERITED)
    category: Category = field(INHERITED)
    changes: list[FieldChange] = field(INHERITED)

    @guarded(INHERITED, graphql_type=Setting | None)
    async def setting(
        self, root: strawberry.Parent[HistoryEntryRecord], info: Info[Context, None]
    ) -> SettingRecord | None:
        return None if root.setting_id is None else await info.context.loaders.setting.load(root.setting_id)


# Child-protection and confidential entries are read like the fields that carry those data.
READ_ACTIONS = {Category.CP_PLAN: "cp_plan.read", Category.CONFIDENTIAL: "confidential_notes.read"}


def audit_history_read(
    info: Info[Context, None], record_type: str, record: FamilyRecord | PersonRecord, entries: list[HistoryEntryRecord]
) -> list[HistoryEntryRecord]:
    """Audit the reading of each audited category among the history entries returned."""
    family_id = record.id if isinstance(record, FamilyRecord) else record.family_id
    shown = {entry.category for entry in entries}
    for category, action in READ_ACTIONS.items():
        if category not in shown:
            continue
        info.context.audit.read(
            action, record_type, record.id, family_id=family_id, setting_id=record.access.setting,
            category=category, changes={"field": "history"},
        )  # fmt: skip
    return entries
