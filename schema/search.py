from datetime import date

import strawberry
from strawberry.types import Info

from resolvers.context import Context
from resolvers.ids import encode_id
from resolvers.records import SettingRecord
from resolvers.search import MatchRecord
from schema.fields import Category, field, guarded, record
from schema.setting import Setting

Match = strawberry.Parent[MatchRecord]


@record
class PersonMatch:
    first_name: str = field(Category.PRIMARY)
    last_name: str = field(Category.PRIMARY)
    date_of_birth: date | None = field(Category.PRIMARY)
    postcode: str | None = field(Category.PRIMARY)

    @guarded(Category.PRIMARY)
    def person_id(self, root: Match) -> strawberry.ID:
        return strawberry.ID(encode_id(root.type_name, root.id))

    @guarded(Category.PRIMARY)
    def family_id(self, root: Match) -> strawberry.ID:
        return strawberry.ID(encode_id("Family", root.family_id))

    @guarded(Category.PRIMARY, graphql_type=Setting)
    async def registered_setting(self, root: Match, info: Info[Context, None]) -> SettingRecord | None:
        return await info.context.loaders.setting.load(root.registered_setting_id)
