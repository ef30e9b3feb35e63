"""A record's history: its audit events, each shown only to those who may read its category."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from resolvers.context import Context
from resolvers.history import HistoryEntry as Entry
from schema.enums import Category
from schema.fields import INHERITED, field, guarded, record
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

    @guarded(INHERITED)
    async def setting(self, root: strawberry.Parent[Entry], info: Info[Context, None]) -> Setting | None:
        return None if root.setting_id is None else await info.context.loaders.setting.load(root.setting_id)
