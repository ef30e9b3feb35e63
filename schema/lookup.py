"""Drop-down lists (standards 15)."""

from enum import StrEnum

import strawberry
from strawberry.types import Info

from resolvers.context import Context
from resolvers.lookup import LookupList, LookupValueRecord
from resolvers.records import SettingRecord
from schema.fields import public, resolved
from schema.setting import Setting

strawberry.enum(LookupList, name="LookupList")


@strawberry.enum
class SubjectKind(StrEnum):
    FAMILY = "FAMILY"
    CARER = "CARER"
    CHILD = "CHILD"


@public(description="A value of a drop-down list; deactivated values stay for the records using them.")
class LookupValue:
    code: str
    label: str
    active: bool

    @resolved(description="Custom indicators only: the kind of subject it applies to (null: any).")
    def applies_to(self, root: strawberry.Parent[LookupValueRecord]) -> SubjectKind | None:
        return None if root.applies_to is None else SubjectKind(root.applies_to)

    @resolved(
        graphql_type=Setting | None,
        description="Custom indicators only: the setting that defined it (null: all settings).",
    )
    async def setting(
        self, root: strawberry.Parent[LookupValueRecord], info: Info[Context, None]
    ) -> SettingRecord | None:
        return None if root.setting_id is None else await info.context.loaders.setting.load(root.setting_id)


@strawberry.input
class LookupValueInput:
    list: LookupList
    code: str
    label: str
    setting_id: strawberry.ID | None = None
    applies_to: SubjectKind | None = None


@strawberry.input(description="An omitted field is unchanged.")
class LookupValueUpdate:
    list: LookupList
    code: str
    label: str | None = None
    active: bool | None = None
