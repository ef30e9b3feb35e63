import strawberry

from resolvers.ids import encode_id
from resolvers.records import SettingRecord
from schema.fields import public


@public(description="A children's centre. Reference data every caller may read.")
class Setting:
    code: str
    name: str

    @strawberry.field
    def id(self, root: strawberry.Parent[SettingRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("Setting", root.id))
